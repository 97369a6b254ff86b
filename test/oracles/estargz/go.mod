module github.com/img/oracles/estargz

go 1.24.0

require (
	github.com/containerd/stargz-snapshotter/estargz v0.18.2
	github.com/klauspost/compress v1.18.3
	github.com/opencontainers/go-digest v1.0.0
)

require (
	github.com/vbatts/tar-split v0.12.2
	golang.org/x/sync v0.19.0 // indirect
)
