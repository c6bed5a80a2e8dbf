module github.com/fengqiao/fengqiao

go 1.26

require (
	github.com/emmansun/gmsm v0.44.0
	github.com/paulmach/orb v0.14.0
	github.com/tidwall/rtree v1.10.0
	go.etcd.io/bbolt v1.5.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/tidwall/geoindex v1.7.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
)
