package machine

import "errors"

// Raw SPI flash as esp.flash_read/flash_write/flash_erase see it: 4 MiB of
// NOR flash in 4 KiB sectors; erased bytes read 0xff and a write can only
// clear bits. Sectors nobody touched read erased: the simulator does not
// lay the firmware image or the filesystem out in this space (the board's
// files live in its own model), so raw access there does not see them.
const (
	FlashSize   = 4 << 20
	FlashSector = 4096
)

// ErrFlash is the SDK's SPI_FLASH_RESULT_ERR (the port raises EIO).
var ErrFlash = errors.New("flash access out of range")

func (h *Hardware) sectorLocked(n int, create bool) []byte {
	s := h.flash[n]
	if s == nil && create {
		if h.flash == nil {
			h.flash = map[int][]byte{}
		}
		s = make([]byte, FlashSector)
		for i := range s {
			s[i] = 0xff
		}
		h.flash[n] = s
	}
	return s
}

// FlashRead fills buf from offset.
func (h *Hardware) FlashRead(offset int, buf []byte) error {
	if offset < 0 || offset+len(buf) > FlashSize || offset+len(buf) < offset {
		return ErrFlash
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range buf {
		a := offset + i
		if s := h.sectorLocked(a/FlashSector, false); s != nil {
			buf[i] = s[a%FlashSector]
		} else {
			buf[i] = 0xff
		}
	}
	return nil
}

// FlashWrite programs data at offset: bits go from 1 to 0 only.
func (h *Hardware) FlashWrite(offset int, data []byte) error {
	if offset < 0 || offset+len(data) > FlashSize || offset+len(data) < offset {
		return ErrFlash
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range data {
		a := offset + i
		h.sectorLocked(a/FlashSector, true)[a%FlashSector] &= b
	}
	return nil
}

// FlashErase erases sector n back to 0xff.
func (h *Hardware) FlashErase(n int) error {
	if n < 0 || n >= FlashSize/FlashSector {
		return ErrFlash
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.flash, n)
	return nil
}
