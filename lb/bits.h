// Integer helpers shared by the pickers, all branch-free and allocation-free for the pick path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace am::lb {

// A 64-bit bijective mixer: the splitmix64 finaliser (Steele, Lea, Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014, with Stafford's "variant 13" constants). Every
// input bit flips each output bit with probability close to 1/2, which is what ring points and
// re-mixed key hashes need; a bijection also means distinct inputs never collide.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The odd constant splitmix64 steps by (2^64 / golden ratio), for deriving independent streams.
inline constexpr uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

// A value in [0, n) from 64 uniform bits by multiply-and-shift (Lemire, "Fast random integer
// generation in an interval", 2019, without the rejection step): the bias is below n / 2^64,
// far under anything a load balancer can notice, and it costs one multiply instead of a divide.
inline uint64_t below(uint64_t random, uint64_t n) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<uint64_t>((static_cast<u128>(random) * n) >> 64);
}

// The first index in [0, n) of a sorted array at which `before` is false, or n: the same answer
// as std::partition_point, but without a branch per step, because the branches of a binary search
// over random keys are mispredicted half the time.
template <class Before>
size_t branchless_partition_point(const uint64_t* a, size_t n, Before before) {
  if (n == 0) {
    return 0;
  }
  size_t base = 0;
  while (n > 1) {
    size_t half = n / 2;
    // A mask rather than `?:`, which GCC turns back into a branch.
    base += half & (size_t{0} - static_cast<size_t>(before(a[base + half - 1])));
    n -= half;
  }
  return base + static_cast<size_t>(before(a[base]));
}

}  // namespace am::lb
