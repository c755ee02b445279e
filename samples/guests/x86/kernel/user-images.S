/* The two user programs, embedded as flat images (built by build.sh into build/). */
        .section .rodata.user, "a"
        .p2align 12
        .globl  user_compute_start, user_compute_end
user_compute_start:
        .incbin "build/user-compute.bin"
user_compute_end:
        .p2align 12
        .globl  user_bench_start, user_bench_end
user_bench_start:
        .incbin "build/user-bench.bin"
user_bench_end:
