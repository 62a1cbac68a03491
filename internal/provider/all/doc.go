// Package all registers every provider.
package all
