package reports

import "golang.org/x/crypto/bcrypt"

// CheapPasswordHashes makes s hash the passwords it sets at bcrypt's lowest
// cost: the package's tests sign in many times, and under the race detector
// every sign-in at the real cost takes about a second. Tests only (this file
// is compiled into the package's tests, never into the binary).
func CheapPasswordHashes(s *Store) { s.cost = bcrypt.MinCost }
