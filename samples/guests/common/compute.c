/*
 * The CPU-bound pvkit workload: CRC32, SHA-256, a sort and a matrix multiply over data from a
 * fixed pseudo-random generator, each printed as a checksum, then a total. Integer only.
 *
 * Sizes are compile-time constants (QEMU's mipssim ignores -append, so nothing can be passed
 * at boot); together they make a few hundred million MIPS32 instructions. The same source is
 * built for i386, and for a user process of the MIPS and x86 kernel samples (with
 * -DCOMPUTE_NO_MAIN, calling compute_run()); the checksums must agree everywhere.
 */
#include "guest.h"

#ifndef CRC_BYTES
#define CRC_BYTES (128 * 1024) /* bytes per CRC32 pass */
#endif
#ifndef CRC_ROUNDS
#define CRC_ROUNDS 24
#endif
#ifndef SHA_BYTES
#define SHA_BYTES (64 * 1024) /* bytes hashed per SHA-256 round */
#endif
#ifndef SHA_ROUNDS
#define SHA_ROUNDS 28
#endif
#ifndef SORT_N
#define SORT_N 16384 /* 32-bit keys per heapsort */
#endif
#ifndef SORT_ROUNDS
#define SORT_ROUNDS 12
#endif
#ifndef MAT_N
#define MAT_N 64 /* square matrices of 32-bit integers */
#endif
#ifndef MAT_ROUNDS
#define MAT_ROUNDS 20
#endif

static uint8_t buf[CRC_BYTES > SHA_BYTES ? CRC_BYTES : SHA_BYTES];
static uint32_t keys[SORT_N];
static uint32_t mat_a[MAT_N * MAT_N], mat_b[MAT_N * MAT_N], mat_c[MAT_N * MAT_N];

/* Numerical Recipes' 32-bit LCG: deterministic data on every architecture. */
static uint32_t rng_state;
static uint32_t rng(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state;
}

static void fill(uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) p[i] = (uint8_t)(rng() >> 24);
}

/* ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32) ---- */
static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n) {
  crc = ~crc;
  for (uint32_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- SHA-256 (FIPS 180-4) ---- */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

/* SHA-256 of p[0..n), n a multiple of 64 below 2^29 (so the bit length fits in 32 bits). */
static void sha256(uint32_t h[8], const uint8_t *p, uint32_t n) {
  static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t pad[64];
  for (int i = 0; i < 8; i++) h[i] = init[i];
  for (uint32_t off = 0; off < n; off += 64) sha_block(h, p + off);
  memset(pad, 0, sizeof pad);
  pad[0] = 0x80;
  uint32_t bits = n << 3;
  pad[60] = (uint8_t)(bits >> 24);
  pad[61] = (uint8_t)(bits >> 16);
  pad[62] = (uint8_t)(bits >> 8);
  pad[63] = (uint8_t)bits;
  sha_block(h, pad);
}

/* ---- heapsort ---- */
static void sift_down(uint32_t *a, uint32_t start, uint32_t end) {
  uint32_t root = start;
  while (2 * root + 1 < end) {
    uint32_t child = 2 * root + 1;
    if (child + 1 < end && a[child] < a[child + 1]) child++;
    if (a[root] >= a[child]) return;
    uint32_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

static void heapsort(uint32_t *a, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (uint32_t end = n - 1; end > 0; end--) {
    uint32_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

/* ---- matrix multiply (mod 2^32) ---- */
static void matmul(uint32_t *c, const uint32_t *a, const uint32_t *b) {
  for (int i = 0; i < MAT_N; i++)
    for (int j = 0; j < MAT_N; j++) {
      uint32_t s = 0;
      for (int k = 0; k < MAT_N; k++) s += a[i * MAT_N + k] * b[k * MAT_N + j];
      c[i * MAT_N + j] = s;
    }
}

static void report(const char *what, uint32_t v) {
  put_str("compute: ");
  put_str(what);
  put_str(" ");
  put_hex32(v);
  put_str("\n");
}

int compute_run(void) {
  uint32_t total = 0;

  /* CRC32: each pass covers the buffer, then perturbs one byte so passes differ. */
  rng_state = 1;
  crc_init();
  fill(buf, CRC_BYTES);
  uint32_t crc = 0;
  for (uint32_t r = 0; r < CRC_ROUNDS; r++) {
    crc = crc32(crc, buf, CRC_BYTES);
    buf[(r * 7919u) % CRC_BYTES] ^= (uint8_t)crc;
  }
  report("crc32", crc);
  total += crc;

  /* SHA-256: each round hashes the buffer, then stores the digest at its start. */
  rng_state = 2;
  fill(buf, SHA_BYTES);
  uint32_t h[8];
  for (uint32_t r = 0; r < SHA_ROUNDS; r++) {
    sha256(h, buf, SHA_BYTES);
    for (int i = 0; i < 8; i++) {
      buf[4 * i] = (uint8_t)(h[i] >> 24);
      buf[4 * i + 1] = (uint8_t)(h[i] >> 16);
      buf[4 * i + 2] = (uint8_t)(h[i] >> 8);
      buf[4 * i + 3] = (uint8_t)h[i];
    }
  }
  put_str("compute: sha256 ");
  for (int i = 0; i < 8; i++) put_hex32(h[i]);
  put_str("\n");
  total += h[0] ^ h[7];

  /* Sort: fresh keys each round; checksum weights each key by its position; verify order. */
  rng_state = 3;
  uint32_t sort_sum = 0;
  int sorted = 1;
  for (uint32_t r = 0; r < SORT_ROUNDS; r++) {
    for (uint32_t i = 0; i < SORT_N; i++) keys[i] = rng();
    heapsort(keys, SORT_N);
    for (uint32_t i = 0; i < SORT_N; i++) {
      sort_sum += keys[i] * (i + 1);
      if (i > 0 && keys[i - 1] > keys[i]) sorted = 0;
    }
  }
  report(sorted ? "sort" : "sort UNSORTED", sort_sum);
  total += sort_sum;

  /* Matrix multiply: C = A * B, then A = C each round. */
  rng_state = 4;
  for (int i = 0; i < MAT_N * MAT_N; i++) {
    mat_a[i] = rng() >> 16;
    mat_b[i] = rng() >> 16;
  }
  for (uint32_t r = 0; r < MAT_ROUNDS; r++) {
    matmul(mat_c, mat_a, mat_b);
    memcpy(mat_a, mat_c, sizeof mat_a);
  }
  uint32_t mat_sum = 0;
  for (int i = 0; i < MAT_N * MAT_N; i++) mat_sum = (mat_sum ^ mat_c[i]) * 16777619u;
  report("matmul", mat_sum);
  total += mat_sum;

  report("total", total);
  return sorted ? 0 : 1;
}

#ifndef COMPUTE_NO_MAIN
int main(void) {
  int rc = compute_run();
  put_str("DONE\n");
  return rc;
}
#endif
