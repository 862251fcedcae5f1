package board

import (
	"sort"
	"strings"
)

// On the ESP8266 an import searches sys.path ('' first) before the
// extensible built-ins and the frozen modules, so a user's own time.py or
// ntptime.py wins. Once the board's copies of such modules are loaded they
// are built-ins of the firmware's extensible map (modmap.go), reached only
// when the filesystem has no such file: their files leave frozenDir for
// the rest of the boot, and an import that finds no user file gets the
// loaded module instead of a second copy.

// hideFrozen takes the modules' files (names without .py) off frozenDir.
func (f *flashFS) hideFrozen(names []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		p := frozenDir + "/" + n + ".py"
		if file, ok := f.files[p]; ok {
			if f.hidden == nil {
				f.hidden = map[string]*flashFile{}
			}
			f.hidden[p] = file
			delete(f.files, p)
		}
	}
}

// unhideFrozen puts the hidden files back, for the next boot's loading.
func (f *flashFS) unhideFrozen() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, file := range f.hidden {
		f.files[p] = file
		delete(f.hidden, p)
	}
}

// hiddenFrozen names the modules hideFrozen took off, sorted (a boot
// snapshot re-applies them).
func (f *flashFS) hiddenFrozen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for p := range f.hidden {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(p, frozenDir+"/"), ".py"))
	}
	sort.Strings(names)
	return names
}
