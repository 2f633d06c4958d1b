package nettest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// MountTmpfs mounts a tmpfs of sizeMB MiB on dir (a small disk to fill),
// keeping the files dir held, and unmounts it in t.Cleanup (registered
// now, so it runs after the cleanups of processes started later). It
// returns why it cannot, for the test to skip: mounting needs root or
// CAP_SYS_ADMIN.
func MountTmpfs(t testing.TB, dir string, sizeMB int) error {
	t.Helper()
	if _, err := exec.LookPath("mount"); err != nil {
		return fmt.Errorf("no mount command: %w", err)
	}
	held := dir + ".before-tmpfs"
	if err := os.Rename(dir, held); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0700", sizeMB), "tmpfs", dir).CombinedOutput()
	if err != nil {
		os.Remove(dir)
		os.Rename(held, dir)
		return fmt.Errorf("mount -t tmpfs on %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Something still holds a file there: detach it now, the
			// kernel frees it when the last user is gone.
			t.Logf("umount %s: %v: %s; detaching it", dir, err, strings.TrimSpace(string(out)))
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	if err := copyTree(held, dir); err != nil {
		t.Fatalf("copy %s onto the tmpfs: %v", held, err)
	}
	if err := os.RemoveAll(held); err != nil {
		t.Fatal(err)
	}
	return nil
}

// copyTree copies the regular files and directories under src into dst.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, fi.Mode().Perm())
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// FreeBytes is the space available on the filesystem holding path.
func FreeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// FillDisk appends to file until the filesystem holding it has at most
// leave bytes free (others may be writing there too) and returns its size.
func FillDisk(file string, leave uint64) (int64, error) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		free, err := FreeBytes(file)
		if err != nil {
			return n, err
		}
		if free <= leave {
			return n, f.Sync()
		}
		chunk := buf[:min(uint64(len(buf)), free-leave)]
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			return n, err
		}
	}
}
