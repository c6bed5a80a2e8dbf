// Package tarball packs a directory's files into a gzipped tar and unpacks
// one: the committed fixtures of older data directories (core/testdata,
// federation/replica/testdata) are written and read with it.
package tarball

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Pack writes the regular files under dir (names, when given, limit it to
// those) into a gzipped tar at path.
func Pack(path, dir string, names ...string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	add := func(rel string) error {
		raw, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o600, Size: int64(len(raw))}); err != nil {
			return err
		}
		_, err = tw.Write(raw)
		return err
	}
	if len(names) > 0 {
		for _, n := range names {
			if err = add(n); err != nil {
				break
			}
		}
	} else {
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			return add(rel)
		})
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unpack extracts a gzipped tar of plain files into dir, keeping folders.
func Unpack(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+h.Name)))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		raw, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			return err
		}
	}
}
