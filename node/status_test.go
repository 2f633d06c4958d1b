package node

import "testing"

func TestRecentMisses(t *testing.T) {
	const w = 10
	bitmap := make([]byte, (w+7)/8)
	set := func(heights ...int64) {
		for _, h := range heights {
			i := (h - 1) % w
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	set(13, 15, 16) // bits 2, 4, 5
	cases := []struct {
		h         int64
		k         int
		missed    uint32
		of        uint32
		bitmapLen int
	}{
		{h: 16, k: 3, missed: 2, of: 3},    // 14, 15, 16
		{h: 16, k: 4, missed: 3, of: 4},    // 13..16
		{h: 16, k: 20, missed: 3, of: w},   // the window bounds k
		{h: 2, k: 20, missed: 0, of: 2},    // so does the height (bits 0, 1 clear)
		{h: 16, k: 3, of: 3, bitmapLen: 1}, // a bitmap of another window: unknown, none counted
		{h: 0, k: 3, of: 0},
	}
	for _, c := range cases {
		b := bitmap
		if c.bitmapLen > 0 {
			b = b[:c.bitmapLen]
		}
		missed, of := recentMisses(b, w, c.h, c.k)
		if missed != c.missed || of != c.of {
			t.Errorf("h %d, k %d: %d of %d, want %d of %d", c.h, c.k, missed, of, c.missed, c.of)
		}
	}
	if missed, of := recentMisses(nil, w, 16, 5); missed != 0 || of != 5 {
		t.Errorf("no bitmap (never missed): %d of %d", missed, of)
	}
}
