// Measurement-only baseline for bench/compress: gzip stdin to stdout with github.com/klauspost/pgzip
// (what Go container tools use for parallel gzip), with our block-mode semantics: fixed blocks of
// -b bytes compressed on -p goroutines at level -l. Built by bench/compress/run.mjs; never shipped.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/klauspost/pgzip"
)

func main() {
	level := flag.Int("l", pgzip.DefaultCompression, "level (-1 = pgzip's default)")
	block := flag.Int("b", 1<<20, "block size in bytes")
	procs := flag.Int("p", runtime.NumCPU(), "blocks compressed at once (and GOMAXPROCS)")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	w, err := pgzip.NewWriterLevel(out, *level)
	if err == nil {
		err = w.SetConcurrency(*block, *procs)
	}
	if err == nil {
		_, err = io.Copy(w, bufio.NewReaderSize(os.Stdin, 1<<20))
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgzip:", err)
		os.Exit(1)
	}
}
