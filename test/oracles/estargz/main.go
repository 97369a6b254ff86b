// estargz-oracle: the eStargz reference library (github.com/containerd/stargz-snapshotter/estargz)
// behind a tiny command line, so that img's TypeScript tests can check blobs against it.
//
//	estargz-oracle verify [-zstdchunked] [-skip-verify-toc] BLOB TOC_DIGEST
//	    Open + VerifyTOC, then read every regular file through the reader (random access by TOC
//	    offsets) and check every chunk against its chunkDigest and every file against its digest.
//	    Prints a JSON summary of the tree on stdout; exits 1 with the library's error otherwise.
//	estargz-oracle build [-zstdchunked] [-chunk-size N] [-min-chunk-size N] [-level N]
//	                     [-prioritized FILE] IN.tar OUT_BLOB
//	    estargz.Build of a plain tar; prints {"tocDigest","diffId","annotations"} on stdout.
//	estargz-oracle zstdchunked BLOB
//	    containers/storage's zstd:chunked read back and rebuilt with tar-split (zstdchunked.go).
//
// Test tooling only; the product is TypeScript.
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

type fileSummary struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Size     int64             `json:"size,omitempty"`
	Mode     int64             `json:"mode"`
	LinkName string            `json:"linkName,omitempty"`
	Digest   string            `json:"digest,omitempty"`
	Chunks   int               `json:"chunks,omitempty"`
	Xattrs   map[string]string `json:"xattrs,omitempty"`
}

type verifySummary struct {
	TOCDigest string        `json:"tocDigest"`
	Files     []fileSummary `json:"files"`
	Chunks    int           `json:"chunks"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "estargz-oracle: "+format+"\n", args...)
	os.Exit(1)
}

func openBlob(p string) (*os.File, *io.SectionReader) {
	f, err := os.Open(p)
	if err != nil {
		fail("%v", err)
	}
	st, err := f.Stat()
	if err != nil {
		fail("%v", err)
	}
	return f, io.NewSectionReader(f, 0, st.Size())
}

func verify(args []string) {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	zstdChunked := fs.Bool("zstdchunked", false, "the blob is zstd:chunked")
	skipVerifyTOC := fs.Bool("skip-verify-toc", false, "only read every file and check its digest (VerifyTOC rejects innerOffset layouts)")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		fail("usage: verify [-zstdchunked] [-skip-verify-toc] BLOB TOC_DIGEST")
	}
	f, sr := openBlob(fs.Arg(0))
	defer f.Close()
	want, err := digest.Parse(fs.Arg(1))
	if err != nil {
		fail("bad TOC digest: %v", err)
	}
	var opts []estargz.OpenOption
	if *zstdChunked {
		opts = append(opts, estargz.WithDecompressors(new(zstdchunked.Decompressor)))
	}
	r, err := estargz.Open(sr, opts...)
	if err != nil {
		fail("open: %v", err)
	}
	var v estargz.TOCEntryVerifier
	if *skipVerifyTOC {
		if r.TOCDigest() != want {
			fail("TOC digest is %s, want %s", r.TOCDigest(), want)
		}
	} else if v, err = r.VerifyTOC(want); err != nil {
		fail("VerifyTOC: %v", err)
	}
	summary := verifySummary{TOCDigest: r.TOCDigest().String()}
	root, ok := r.Lookup("")
	if !ok {
		fail("no root directory in the TOC")
	}
	var walk func(dir string, e *estargz.TOCEntry)
	walk = func(dir string, e *estargz.TOCEntry) {
		var names []string
		children := map[string]*estargz.TOCEntry{}
		e.ForeachChild(func(base string, c *estargz.TOCEntry) bool {
			names = append(names, base)
			children[base] = c
			return true
		})
		sort.Strings(names)
		for _, base := range names {
			c := children[base]
			name := path.Join(dir, base)
			s := fileSummary{Name: name, Type: c.Type, Mode: c.Mode, LinkName: c.LinkName}
			if len(c.Xattrs) > 0 {
				s.Xattrs = map[string]string{}
				for k, val := range c.Xattrs {
					s.Xattrs[k] = string(val)
				}
			}
			if c.Type == "reg" {
				s.Size = c.Size
				s.Digest = c.Digest
				s.Chunks = checkFile(r, v, name, c)
				summary.Chunks += s.Chunks
			}
			summary.Files = append(summary.Files, s)
			if c.Type == "dir" {
				walk(name, c)
			}
		}
	}
	walk("", root)
	out, _ := json.MarshalIndent(summary, "", "  ")
	fmt.Println(string(out))
}

// checkFile reads a file chunk by chunk through the reader and checks every chunk digest and the
// whole-file digest; returns the number of chunks.
func checkFile(r *estargz.Reader, v estargz.TOCEntryVerifier, name string, e *estargz.TOCEntry) int {
	fr, err := r.OpenFile(name)
	if err != nil {
		fail("OpenFile %q: %v", name, err)
	}
	whole := sha256.New()
	chunks := 0
	for off := int64(0); off < e.Size; {
		ce, ok := r.ChunkEntryForOffset(name, off)
		if !ok {
			fail("%q: no chunk for offset %d", name, off)
		}
		buf := make([]byte, ce.ChunkSize)
		if _, err := fr.ReadAt(buf, ce.ChunkOffset); err != nil && err != io.EOF {
			fail("%q: read chunk at %d: %v", name, ce.ChunkOffset, err)
		}
		if v != nil {
			cv, err := v.Verifier(ce)
			if err != nil {
				fail("%q: verifier for chunk at %d: %v", name, ce.ChunkOffset, err)
			}
			cv.Write(buf)
			if !cv.Verified() {
				fail("%q: chunk at %d does not match its digest", name, ce.ChunkOffset)
			}
		}
		whole.Write(buf)
		off = ce.ChunkOffset + ce.ChunkSize
		chunks++
	}
	if got := digest.NewDigest(digest.SHA256, whole).String(); e.Digest != "" && got != e.Digest {
		fail("%q: content digest %s, TOC says %s", name, got, e.Digest)
	}
	return chunks
}

// zstdChunkedCompression pairs the zstd:chunked compressor and decompressor (estargz.Compression).
type zstdChunkedCompression struct {
	*zstdchunked.Compressor
	*zstdchunked.Decompressor
}

func readLines(p string) []string {
	f, err := os.Open(p)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func build(args []string) {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	zstdChunked := fs.Bool("zstdchunked", false, "build zstd:chunked instead of gzip eStargz")
	chunkSize := fs.Int("chunk-size", 0, "chunk size (0: library default, 4 MiB)")
	minChunkSize := fs.Int("min-chunk-size", 0, "minimum chunk size (0: off)")
	level := fs.Int("level", gzip.BestCompression, "gzip level")
	prioritized := fs.String("prioritized", "", "file listing prioritized paths, one per line")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		fail("usage: build [flags] IN.tar OUT_BLOB")
	}
	f, sr := openBlob(fs.Arg(0))
	defer f.Close()
	opts := []estargz.Option{estargz.WithChunkSize(*chunkSize), estargz.WithCompressionLevel(*level)}
	if *minChunkSize > 0 {
		opts = append(opts, estargz.WithMinChunkSize(*minChunkSize))
	}
	if *prioritized != "" {
		opts = append(opts, estargz.WithPrioritizedFiles(readLines(*prioritized)))
	}
	annotations := map[string]string{}
	if *zstdChunked {
		opts = append(opts, estargz.WithCompression(zstdChunkedCompression{
			&zstdchunked.Compressor{CompressionLevel: zstd.SpeedDefault, Metadata: annotations},
			&zstdchunked.Decompressor{},
		}))
	}
	blob, err := estargz.Build(sr, opts...)
	if err != nil {
		fail("build: %v", err)
	}
	out, err := os.Create(fs.Arg(1))
	if err != nil {
		fail("%v", err)
	}
	if _, err := io.Copy(out, blob); err != nil {
		fail("write: %v", err)
	}
	if err := blob.Close(); err != nil {
		fail("close: %v", err)
	}
	if err := out.Close(); err != nil {
		fail("%v", err)
	}
	res, _ := json.Marshal(map[string]any{
		"tocDigest":   blob.TOCDigest().String(),
		"diffId":      blob.DiffID().String(),
		"annotations": annotations,
	})
	fmt.Println(string(res))
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: estargz-oracle verify|build|zstdchunked ...")
	}
	switch os.Args[1] {
	case "verify":
		verify(os.Args[2:])
	case "build":
		build(os.Args[2:])
	case "zstdchunked":
		zstdChunked(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
