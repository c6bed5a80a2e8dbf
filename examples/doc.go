// Package examples holds runnable programs: embed/ shows the library on its
// own; plugin and federation demos follow with their features.
package examples
