package services

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// MIPFile is one file of a package, at its path below the install target.
type MIPFile struct {
	Path string
	Data []byte
}

// MIPPackage is one version of a package in a mip index.
type MIPPackage struct {
	Name, Version string
	Files         []MIPFile
	// Deps are other packages, each {name, version} ("" version: latest).
	Deps [][2]string
}

// MIPIndexConfig describes a mip package index (micropython.org/pi/v2).
type MIPIndexConfig struct {
	// Port is the TCP port (443: the real index is HTTPS only).
	Port int
	// CA issues the certificate for Names; nil serves plain HTTP.
	CA    *CA
	Names []string
	// Packages are the index's content. For a name listed more than once
	// the last one is also "latest".
	Packages []MIPPackage
}

// mipPrefix is where the index lives on its host.
const mipPrefix = "/pi/v2"

// mipKinds are the package flavours mip asks for: "py" with mpy=False,
// else sys.implementation._mpy & 0xFF, 6 for MicroPython 1.27. Both get
// the .py sources (this index compiles nothing; the board imports .py).
var mipKinds = []string{"py", "6"}

// mipShortHash is the index's file name for data: the first 8 hex digits
// of its SHA-256, which mip also uses to tell an installed file is current.
func mipShortHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:8]
}

// AddMIPIndex starts a mip package index: package/<kind>/<name>/<version>.json
// and file/<hh>/<hash> below /pi/v2, as micropython.org serves them.
func (h *Host) AddMIPIndex(cfg MIPIndexConfig) (*HTTPAPI, error) {
	var routes []APIRoute
	files := map[string]bool{}
	latest := map[string]int{}
	for i, p := range cfg.Packages {
		if p.Name == "" || strings.ContainsAny(p.Name, "/ ") {
			return nil, fmt.Errorf("services: mip package %d: name %q", i, p.Name)
		}
		if p.Version == "" || p.Version == "latest" || strings.ContainsAny(p.Version, "/ ") {
			return nil, fmt.Errorf("services: mip package %s: version %q", p.Name, p.Version)
		}
		latest[p.Name] = i
	}
	for i, p := range cfg.Packages {
		doc := struct {
			Hashes  [][2]string `json:"hashes"`
			Deps    [][2]string `json:"deps"`
			Version string      `json:"version"`
		}{Hashes: [][2]string{}, Deps: [][2]string{}, Version: p.Version}
		for _, f := range p.Files {
			clean := path.Clean(f.Path)
			if f.Path == "" || clean != f.Path || strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "..") {
				return nil, fmt.Errorf("services: mip package %s: file path %q must be relative and clean", p.Name, f.Path)
			}
			hash := mipShortHash(f.Data)
			doc.Hashes = append(doc.Hashes, [2]string{f.Path, hash})
			if !files[hash] {
				files[hash] = true
				routes = append(routes, APIRoute{Method: "GET", Path: fmt.Sprintf("%s/file/%s/%s", mipPrefix, hash[:2], hash),
					Body: f.Data, ContentType: "application/octet-stream"})
			}
		}
		doc.Deps = append(doc.Deps, p.Deps...)
		body, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		versions := []string{p.Version}
		if latest[p.Name] == i {
			versions = append(versions, "latest")
		}
		for _, kind := range mipKinds {
			for _, v := range versions {
				routes = append(routes, APIRoute{Method: "GET", Path: fmt.Sprintf("%s/package/%s/%s/%s.json", mipPrefix, kind, p.Name, v), Body: body})
			}
		}
	}
	return h.AddHTTPAPI(HTTPAPIConfig{Port: cfg.Port, Routes: routes, CA: cfg.CA, Names: cfg.Names})
}
