module github.com/svgateway/svgateway

go 1.26
