/*
 * The user programs, linked at USER_IMAGE_BASE and flattened by build.sh
 * (objcopy -O binary), embedded in the kernel image outside its wired range.
 */
	.section .userimg, "a"
	.balign	4096
	.globl user_compute_start, user_compute_end
user_compute_start:
	.incbin	"user-compute.bin"
user_compute_end:
	.balign	4096
	.globl user_bench_start, user_bench_end
user_bench_start:
	.incbin	"user-bench.bin"
user_bench_end:
