module github.com/svgateway/svgateway

go 1.26

require github.com/gopcua/opcua v0.8.0
