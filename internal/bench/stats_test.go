package main

import (
	"math"
	"testing"
)

func TestStats(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if m := median(xs); m != 3 {
		t.Errorf("median %v, want 3", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("even median %v, want 2.5", m)
	}
	if p := percentile(xs, 99); p != 5 {
		t.Errorf("p99 of 5 samples %v, want the max 5", p)
	}
	var hundred []float64
	for i := 100; i >= 1; i-- {
		hundred = append(hundred, float64(i))
	}
	if p := percentile(hundred, 99); p != 99 {
		t.Errorf("p99 of 1..100 %v, want 99", p)
	}
	if p := worst(hundred, true); p != 1 {
		t.Errorf("worst rate of 1..100 %v, want 1", p)
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(ratio(1, 0)) {
		t.Error("empty median and division by zero must be NaN")
	}
}
