// Package depcheck holds no code: its test pins which packages of this
// module may import which (as go-containerregistry's depcheck test does),
// so the layering of README's "How it is built" cannot erode unseen.
package depcheck
