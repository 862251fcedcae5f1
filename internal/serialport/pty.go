package serialport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// hupPoll is how often an endpoint looks again at a PTY nobody has open
// (the master reports hang-up at once then, so it cannot simply wait).
const hupPoll = 20 * time.Millisecond

// waitPoll bounds each wait of the PTY goroutines, so Close is noticed.
const waitPoll = 50 * time.Millisecond

// PTY is a pseudo-terminal whose slave side is the board's serial device.
type PTY struct {
	line *Line
	fd   int
	// Path is the slave device, e.g. /dev/pts/7; Link the stable symlink
	// to it (empty when none was asked for).
	Path string
	Link string

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// OpenPTY creates a pseudo-terminal for line and, when link is not empty,
// a symlink to its slave device at link (replacing a stale symlink there,
// never another kind of file). The slave is put in raw mode (no echo, no
// line editing, no newline translation), as a USB-serial adapter is.
func OpenPTY(line *Line, link string) (*PTY, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening a pseudo-terminal: %w", err)
	}
	p := &PTY{line: line, fd: fd, stop: make(chan struct{})}
	if err := p.setup(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if link != "" {
		if err := placeLink(p.Path, link); err != nil {
			unix.Close(fd)
			return nil, err
		}
		p.Link = link
	}
	s := line.attach()
	p.wg.Add(2)
	go p.readLoop()
	go p.writeLoop(s)
	return p, nil
}

func (p *PTY) setup() error {
	if err := unix.IoctlSetPointerInt(p.fd, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(p.fd, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("naming the pseudo-terminal: %w", err)
	}
	p.Path = fmt.Sprintf("/dev/pts/%d", n)
	// Opening the slave once sets its modes (they last as long as the
	// master) and, once closed, leaves the master reporting hang-up until
	// a client opens it: that is how output knows nobody listens.
	sfd, err := unix.Open(p.Path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", p.Path, err)
	}
	defer unix.Close(sfd)
	t, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("reading the modes of %s: %w", p.Path, err)
	}
	makeRaw(t)
	if err := unix.IoctlSetTermios(sfd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("setting %s to raw mode: %w", p.Path, err)
	}
	return nil
}

// makeRaw is cfmakeraw(3) at 115200 baud, the ESP8266 REPL's rate.
func makeRaw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.B115200
	t.Ispeed, t.Ospeed = unix.B115200, unix.B115200
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

// placeLink makes link a symlink to target, creating its directory.
func placeLink(target, link string) error {
	dir := filepath.Dir(link)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the serial directory %s: %w", dir, unwrapPath(err))
	}
	if st, err := os.Lstat(link); err == nil {
		if st.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("%s exists and is not a symlink; remove it or choose another --serial-dir", link)
		}
		if err := os.Remove(link); err != nil {
			return fmt.Errorf("cannot replace the old symlink %s: %w", link, unwrapPath(err))
		}
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("cannot create the symlink %s: %w", link, unwrapPath(err))
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// Close removes the symlink (if it still points at this PTY), stops the
// goroutines and closes the pseudo-terminal; a client that still has it
// open then reads end of file.
func (p *PTY) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.wg.Wait()
		if p.Link != "" {
			if t, err := os.Readlink(p.Link); err == nil && t == p.Path {
				os.Remove(p.Link)
			}
		}
		unix.Close(p.fd)
	})
	return nil
}

func (p *PTY) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// poll waits up to waitPoll for events on the master.
func (p *PTY) poll(events int16) int16 {
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: events}}
	n, err := unix.Poll(fds, int(waitPoll/time.Millisecond))
	if err != nil || n == 0 {
		return 0
	}
	return fds[0].Revents
}

// readLoop feeds what clients type to the line.
func (p *PTY) readLoop() {
	defer p.wg.Done()
	buf := make([]byte, 4096)
	for !p.stopped() {
		ev := p.poll(unix.POLLIN)
		if ev&unix.POLLIN != 0 {
			n, err := unix.Read(p.fd, buf)
			if n > 0 {
				if !p.line.Feed(buf[:n]) {
					return
				}
				continue
			}
			if err == nil || err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
		}
		if ev&(unix.POLLHUP|unix.POLLERR) != 0 {
			// Nobody has the slave open: look again shortly.
			select {
			case <-p.stop:
				return
			case <-time.After(hupPoll):
			}
		}
	}
}

// writeLoop sends board output to the client, dropping it while nobody has
// the slave open.
func (p *PTY) writeLoop(s *sink) {
	defer p.wg.Done()
	defer p.line.detach(s)
	for {
		select {
		case <-p.stop:
			return
		case <-s.wake:
		}
		data := s.take()
		for len(data) > 0 && !p.stopped() {
			ev := p.poll(unix.POLLOUT)
			if ev&unix.POLLHUP != 0 {
				p.line.Dropped.Add(int64(len(data)))
				break
			}
			if ev&unix.POLLOUT == 0 {
				continue
			}
			n, err := unix.Write(p.fd, data)
			if n > 0 {
				data = data[n:]
			}
			if err != nil && err != unix.EAGAIN && err != unix.EINTR {
				p.line.Dropped.Add(int64(len(data)))
				break
			}
		}
	}
}
