module nmframe.dev/go

go 1.19
