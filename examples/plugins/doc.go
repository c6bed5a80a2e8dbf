// Package plugins holds Fengqiao's example plugins, each its own main
// package: qijiang (綦江 日排查日研判), mediation (枫桥 人民调解) and points
// (积分制). The tests here build each one and run it under a real plugin
// host over an embedded store.
package plugins
