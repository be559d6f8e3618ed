package history

// The page sizes BenchmarkAppendSteady compares, and how they reach Open.

var benchPageSizes = []int{4096, 2048, 1024}

func benchOptions(o Options, pageSize int) Options {
	o.PageSize = pageSize
	return o
}
