package scenario

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
)

// ParseCipherSuite reads a TLS 1.2 cipher suite by its IANA name
// ("TLS_RSA_WITH_AES_128_CBC_SHA") or number ("0x002f"); only suites
// crypto/tls implements are accepted, since the simulated servers use it.
func ParseCipherSuite(s string) (uint16, error) {
	var names []string
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if !supportsTLS12(cs) {
				continue
			}
			if strings.EqualFold(cs.Name, s) {
				return cs.ID, nil
			}
			if n, err := strconv.ParseUint(s, 0, 16); err == nil && uint16(n) == cs.ID {
				return cs.ID, nil
			}
			names = append(names, cs.Name)
		}
	}
	return 0, fmt.Errorf("cipher suite %q is unknown or not implemented; use one of %s", s, strings.Join(names, ", "))
}

func supportsTLS12(cs *tls.CipherSuite) bool {
	for _, v := range cs.SupportedVersions {
		if v == tls.VersionTLS12 {
			return true
		}
	}
	return false
}
