package main

// estargz-oracle zstdchunked BLOB
//
// Reads a zstd:chunked blob the way containers/storage does: the 64-byte footer in the last skippable
// frame, the manifest (TOC) and tar-split frames it points at, the tar-split digest recorded in the
// manifest. Every regular file is fetched from its [offset, endOffset) frames and checked against its
// size and digest (every chunk against its chunkDigest), then the whole tar is rebuilt from the
// tar-split with github.com/vbatts/tar-split's asm, which checks each file's CRC-64 on the way.
// Prints {"diffId","files","manifestChecksum","manifestPosition","tarSplitChecksum","tarSplitPosition"}.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

type csEntry struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Digest      string `json:"digest"`
	Offset      int64  `json:"offset"`
	EndOffset   int64  `json:"endOffset"`
	ChunkSize   int64  `json:"chunkSize"`
	ChunkDigest string `json:"chunkDigest"`
}

type csTOC struct {
	Version        int       `json:"version"`
	Entries        []csEntry `json:"entries"`
	TarSplitDigest string    `json:"tarsplit-digest"`
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func unzstd(b []byte, what string) []byte {
	d, err := zstd.NewReader(nil)
	if err != nil {
		fail("%v", err)
	}
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	if err != nil {
		fail("%s: %v", what, err)
	}
	return out
}

func slice(data []byte, off, end uint64, what string) []byte {
	if off > end || end > uint64(len(data)) {
		fail("%s: range %d..%d outside the blob (%d bytes)", what, off, end, len(data))
	}
	return data[off:end]
}

func zstdChunked(args []string) {
	if len(args) != 1 {
		fail("usage: estargz-oracle zstdchunked BLOB")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fail("%v", err)
	}
	if len(data) < 72 {
		fail("blob too short for a zstd:chunked footer")
	}
	frame := data[len(data)-72:]
	if binary.LittleEndian.Uint32(frame[0:4]) != 0x184D2A50 || binary.LittleEndian.Uint32(frame[4:8]) != 64 {
		fail("the last 72 bytes are not a 64-byte skippable frame")
	}
	footer := frame[8:]
	if string(footer[56:64]) != "GNUlInUx" {
		fail("footer magic %q", footer[56:64])
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(footer[i*8 : i*8+8]) }
	mOff, mLen, mRaw, mType, tOff, tLen, tRaw := u(0), u(1), u(2), u(3), u(4), u(5), u(6)
	if mType != 1 {
		fail("manifest type %d", mType)
	}
	compressedManifest := slice(data, mOff, mOff+mLen, "manifest")
	manifest := unzstd(compressedManifest, "manifest")
	if uint64(len(manifest)) != mRaw {
		fail("manifest is %d bytes, the footer says %d", len(manifest), mRaw)
	}
	var toc csTOC
	if err := json.Unmarshal(manifest, &toc); err != nil {
		fail("manifest: %v", err)
	}
	if toc.Version != 1 {
		fail("manifest version %d", toc.Version)
	}
	compressedTarSplit := slice(data, tOff, tOff+tLen, "tar-split")
	if toc.TarSplitDigest == "" {
		fail("manifest has no tarsplit-digest")
	}
	if got := sha(compressedTarSplit); got != toc.TarSplitDigest {
		fail("tar-split digest %s, the manifest says %s", got, toc.TarSplitDigest)
	}
	tarSplit := unzstd(compressedTarSplit, "tar-split")
	if uint64(len(tarSplit)) != tRaw {
		fail("tar-split is %d bytes, the footer says %d", len(tarSplit), tRaw)
	}

	files := storage.NewBufferFileGetPutter()
	count := 0
	for _, e := range toc.Entries {
		switch {
		case e.Type == "reg" && e.Size > 0:
			if e.Offset <= 0 || e.EndOffset <= e.Offset {
				fail("%s: offset %d, endOffset %d", e.Name, e.Offset, e.EndOffset)
			}
			content := unzstd(slice(data, uint64(e.Offset), uint64(e.EndOffset), e.Name), e.Name)
			if int64(len(content)) != e.Size {
				fail("%s: frames hold %d bytes, size is %d", e.Name, len(content), e.Size)
			}
			if sha(content) != e.Digest {
				fail("%s: digest %s, the manifest says %s", e.Name, sha(content), e.Digest)
			}
			if _, _, err := files.Put(e.Name, bytes.NewReader(content)); err != nil {
				fail("%v", err)
			}
			count++
		case e.Type == "chunk":
			content := unzstd(slice(data, uint64(e.Offset), uint64(e.EndOffset), e.Name), e.Name+" chunk")
			if e.ChunkSize > 0 && int64(len(content)) != e.ChunkSize {
				fail("%s: chunk frame holds %d bytes, chunkSize is %d", e.Name, len(content), e.ChunkSize)
			}
			if sha(content) != e.ChunkDigest {
				fail("%s: chunk digest %s, the manifest says %s", e.Name, sha(content), e.ChunkDigest)
			}
		}
	}

	rebuilt := asm.NewOutputTarStream(files, storage.NewJSONUnpacker(bytes.NewReader(tarSplit)))
	h := sha256.New()
	if _, err := io.Copy(h, rebuilt); err != nil {
		fail("rebuilding the tar from the tar-split: %v", err)
	}
	out, _ := json.Marshal(map[string]any{
		"diffId":           fmt.Sprintf("sha256:%x", h.Sum(nil)),
		"files":            count,
		"manifestChecksum": sha(compressedManifest),
		"manifestPosition": fmt.Sprintf("%d:%d:%d:%d", mOff, mLen, mRaw, mType),
		"tarSplitChecksum": sha(compressedTarSplit),
		"tarSplitPosition": fmt.Sprintf("%d:%d:%d", tOff, tLen, tRaw),
	})
	fmt.Println(string(out))
}
