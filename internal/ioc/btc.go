package ioc

import (
	"crypto/sha256"
	"strings"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
const bech32Alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var base58Index, bech32Index = func() (a, b [256]int8) {
	for i := range a {
		a[i], b[i] = -1, -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		a[base58Alphabet[i]] = int8(i)
	}
	for i := 0; i < len(bech32Alphabet); i++ {
		b[bech32Alphabet[i]] = int8(i)
	}
	return a, b
}()

// validBTC reports whether s is a Bitcoin mainnet address.
func validBTC(s string) bool {
	_, ok := normalizeBTC(s)
	return ok
}

// normalizeBTC validates a P2PKH/P2SH base58check address ("1...", "3...",
// kept as is) or a segwit bech32/bech32m address ("bc1...", lower-cased).
func normalizeBTC(s string) (string, bool) {
	if len(s) >= 14 && strings.EqualFold(s[:3], "bc1") {
		l := strings.ToLower(s)
		if l != s && strings.ToUpper(s) != s {
			return "", false // mixed case is invalid bech32
		}
		return l, validBech32(l)
	}
	if len(s) < 26 || len(s) > 35 || (s[0] != '1' && s[0] != '3') {
		return "", false
	}
	var n [25]byte
	for i := 0; i < len(s); i++ {
		d := int(base58Index[s[i]])
		if d < 0 {
			return "", false
		}
		carry := d
		for k := len(n) - 1; k >= 0; k-- {
			carry += int(n[k]) * 58
			n[k] = byte(carry)
			carry >>= 8
		}
		if carry != 0 {
			return "", false
		}
	}
	if n[0] != 0 && n[0] != 5 || (n[0] == 0) != (s[0] == '1') {
		return "", false
	}
	h := sha256.Sum256(n[:21])
	h = sha256.Sum256(h[:])
	return s, string(h[:4]) == string(n[21:])
}

func validBech32(s string) bool {
	if len(s) > 90 || len(s) < 14 {
		return false
	}
	data := make([]byte, 0, len(s)-3)
	for i := 3; i < len(s); i++ {
		d := bech32Index[s[i]]
		if d < 0 {
			return false
		}
		data = append(data, byte(d))
	}
	// polymod over hrp "bc" expanded, then data
	chk := uint32(1)
	poly := func(v byte) {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i, g := range [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3} {
			if (b>>i)&1 == 1 {
				chk ^= g
			}
		}
	}
	for _, c := range []byte("bc") {
		poly(c >> 5)
	}
	poly(0)
	for _, c := range []byte("bc") {
		poly(c & 31)
	}
	for _, d := range data {
		poly(d)
	}
	ver := data[0]
	if ver > 16 || (ver == 0 && chk != 1) || (ver > 0 && chk != 0x2bc830a3) {
		return false
	}
	prog := data[1 : len(data)-6]
	bits := len(prog) * 5
	if bits%8 >= 5 {
		return false
	}
	n := bits / 8
	if n < 2 || n > 40 || ver == 0 && n != 20 && n != 32 {
		return false
	}
	return true
}
