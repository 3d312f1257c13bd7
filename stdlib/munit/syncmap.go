package munit

import "sync"

// syncMap is a typed sync.Map for the package's caches.
type syncMap[K comparable, V any] struct{ m sync.Map }

func newSyncMap[K comparable, V any]() *syncMap[K, V] { return &syncMap[K, V]{} }

func (s *syncMap[K, V]) load(k K) (V, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (s *syncMap[K, V]) store(k K, v V) { s.m.Store(k, v) }
