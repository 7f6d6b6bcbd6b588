// Package sealbox seals a secret to a one-time public key, so a build can
// hand its ID token to `jenkins-cloudsmith token` through the console
// without anyone who reads the console learning it: X25519 key agreement
// with an ephemeral key, HKDF-SHA256, AES-256-GCM (the shape of HPKE's
// base mode, from the standard library). The private key never leaves the
// process that asked for the token.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Marker starts the console line that carries a sealed secret.
const Marker = "jenkins-cloudsmith-sealed: "

// version prefixes every sealed string, so the format can change.
const version = "v1."

const info = "jenkins-cloudsmith sealed token v1"

var b64 = base64.RawURLEncoding

// Key is a one-time key pair; Public is what the sealing side gets.
type Key struct {
	priv *ecdh.PrivateKey
}

// NewKey returns a fresh key pair.
func NewKey() (*Key, error) {
	p, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Key{priv: p}, nil
}

// Public is the public key as one base64url word (safe in a shell word,
// a URL or XML).
func (k *Key) Public() string { return b64.EncodeToString(k.priv.PublicKey().Bytes()) }

// Seal encrypts secret to the public key pub (as Key.Public prints it) and
// returns one base64url word.
func Seal(pub string, secret []byte) (string, error) {
	raw, err := b64.DecodeString(pub)
	if err != nil {
		return "", fmt.Errorf("the public key is not base64url: %w", err)
	}
	peer, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return "", fmt.Errorf("the public key is not an X25519 key: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	aead, err := aeadFor(eph, peer, eph.PublicKey())
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	msg := append(eph.PublicKey().Bytes(), nonce...)
	msg = aead.Seal(msg, nonce, secret, nil)
	return version + b64.EncodeToString(msg), nil
}

// Open decrypts what Seal made for k.
func (k *Key) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return nil, errors.New("not a sealed secret of this version")
	}
	msg, err := b64.DecodeString(rest)
	if err != nil || len(msg) < 32+12+16 {
		return nil, errors.New("the sealed secret is truncated or mangled")
	}
	eph, err := ecdh.X25519().NewPublicKey(msg[:32])
	if err != nil {
		return nil, err
	}
	aead, err := aeadFor(k.priv, eph, eph)
	if err != nil {
		return nil, err
	}
	nonce := msg[32 : 32+aead.NonceSize()]
	out, err := aead.Open(nil, nonce, msg[32+aead.NonceSize():], nil)
	if err != nil {
		return nil, errors.New("the sealed secret does not open with this key (sealed for another request, or altered)")
	}
	return out, nil
}

// aeadFor derives the AES-GCM key from the X25519 agreement of own and
// peer, bound to the ephemeral public key.
func aeadFor(own *ecdh.PrivateKey, peer, eph *ecdh.PublicKey) (cipher.AEAD, error) {
	shared, err := own.ECDH(peer)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, shared, eph.Bytes(), info, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

var sealedLine = regexp.MustCompile(regexp.QuoteMeta(Marker) + `(v1\.[A-Za-z0-9_-]+)`)

// Find returns the sealed word on the first Marker line of text.
func Find(text []byte) (string, bool) {
	m := sealedLine.FindSubmatch(text)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}
