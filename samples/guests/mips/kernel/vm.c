/*
 * Virtual memory: physical frame allocation, per-process page tables, demand paging and
 * the TLB operations the kernel does in C (the refill fast path is in vectors.S).
 *
 * Page-table entry (8 bytes per 4 KiB page, indexed by VPN):
 *   word 0: the EntryLo value the refill handler loads (PFN, C, D, V; never G)
 *   word 1: software word: how to materialize the page on first touch.
 * An entry with V = 0 and a non-zero software word is a valid page not yet present:
 * the first access raises TLBL/TLBS (invalid) and vm_fault fills it.
 */
#include "kernel.h"

#define SW_NONE 0u
#define SW_ZERO 1u           /* demand-zero (bss, stack) */
#define SW_IMAGE 2u          /* copy from the user image at offset (va - USER_IMAGE_BASE) */
#define SW_KIND_MASK 3u
#define SW_WRITABLE 4u

struct image_header {
  u32 magic, entry, text_end, load_end, bss_end;
};

static u32 next_frame = FRAME_POOL_BASE;
static const u32 *proc_image[NPROC + 1];
static u32 proc_image_bytes[NPROC + 1];

static u32 *pte_of(struct proc *p, u32 va) {
  return (u32 *)(p->pt_kva + (va >> PAGE_SHIFT) * 8);
}

/* Returns the physical address of a fresh frame, or 0 when the pool is exhausted. */
static u32 frame_alloc(void) {
  if (next_frame >= FRAME_POOL_END) return 0;
  u32 f = next_frame;
  next_frame += PAGE_SIZE;
  return f;
}

u32 tlb_entries(void) {
  u32 c1 = hal_config1();
  return ((c1 >> CONFIG1_MMU_SHIFT) & CONFIG1_MMU_MASK) + 1;
}

/* Invalidates every non-wired TLB entry (hal.h: TLBWI per entry natively, one tlb_op batch
   under PV). */
void tlb_init(void) {
  u32 n = tlb_entries();
  u32 wired = mfc0(C0_WIRED);
  hal_tlb_invalidate(wired, n);
  mtc0(C0_ENTRYHI, 0);
}

/*
 * Rewrites the TLB entry (if any) for the pair holding va in the current address space
 * with the page table's values (hal.h: TLBP + TLBWI natively, one probing batch entry under
 * PV). Reads the PTEs first: in the ksseg build reading them may
 * itself take a ksseg refill, which rewrites EntryHi and EntryLo.
 */
static void tlb_update(struct proc *p, u32 va) {
  const u32 *pair = pte_of(p, va & ~0x1fffu);
  u32 lo0 = pair[0];
  u32 lo1 = pair[2];
  u32 hi = (va & ~0x1fffu) | p->asid;
  hal_tlb_update(hi, lo0, lo1);
  mtc0(C0_ENTRYHI, p->asid);
}

/* Makes p's address space current: ASID in EntryHi, page table in Context.PTEBase. */
void vm_activate(struct proc *p) {
  mtc0(C0_ENTRYHI, p->asid);
  mtc0(C0_CONTEXT, p->pt_kva);
}

static void map_range(struct proc *p, u32 start, u32 end, u32 sw) {
  for (u32 va = start & ~(PAGE_SIZE - 1); va < end; va += PAGE_SIZE) {
    u32 *pte = pte_of(p, va);
    pte[0] = 0;
    pte[1] = sw;
  }
}

/*
 * Builds p's page table from a user image (user/crt0.S header): text pages read-only,
 * data writable, both copied from the image on first touch; bss and the stack
 * demand-zero; everything else absent.
 */
void vm_init_proc(struct proc *p, const u32 *image, u32 image_bytes) {
  const struct image_header *h = (const struct image_header *)image;
  p->pt_kva = PHYS_TO_KVA(PT_PHYS(p->pid));
  memset((void *)p->pt_kva, 0, PT_BYTES);
  proc_image[p->pid] = image;
  proc_image_bytes[p->pid] = image_bytes;
  map_range(p, USER_IMAGE_BASE, h->text_end, SW_IMAGE);
  map_range(p, h->text_end, h->load_end, SW_IMAGE | SW_WRITABLE);
  u32 zero_start = (h->load_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  map_range(p, zero_start, h->bss_end, SW_ZERO | SW_WRITABLE);
  map_range(p, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP, SW_ZERO | SW_WRITABLE);
  p->tf.epc = h->entry;
  p->tf.regs[29] = USER_STACK_TOP - 16;
  p->tf.status = ST_IM7 | ST_KSU_USER | ST_EXL | ST_IE;
}

/* Fills a not-yet-present page. Returns 0 on success, -1 if va is not part of p. */
static int materialize(struct proc *p, u32 va, u32 *pte) {
  u32 sw = pte[1];
  u32 kind = sw & SW_KIND_MASK;
  if (kind == SW_NONE) return -1;
  u32 frame = frame_alloc();
  if (frame == 0) return -1;
  u8 *dst = (u8 *)PHYS_TO_KVA(frame);
  u32 page = va & ~(PAGE_SIZE - 1);
  if (kind == SW_IMAGE) {
    u32 off = page - USER_IMAGE_BASE;
    u32 avail = proc_image_bytes[p->pid] > off ? proc_image_bytes[p->pid] - off : 0;
    u32 n = avail < PAGE_SIZE ? avail : PAGE_SIZE;
    memcpy(dst, (const u8 *)proc_image[p->pid] + off, n);
    memset(dst + n, 0, PAGE_SIZE - n);
  } else {
    memset(dst, 0, PAGE_SIZE);
  }
  pte[0] = ((frame >> PAGE_SHIFT) << ELO_PFN_SHIFT) | ELO_C_CACHED | ELO_V |
           ((sw & SW_WRITABLE) ? ELO_D : 0);
  p->page_faults++;
  return 0;
}

/*
 * Handles a TLB invalid exception on a user address: materializes the page if it belongs
 * to p, then refreshes the TLB entry. A write to a read-only page, or an address outside
 * p, returns -1 (the caller kills p).
 */
int vm_fault(struct proc *p, u32 va, int write) {
  if (va >= USER_VA_LIMIT) return -1;
  u32 *pte = pte_of(p, va);
  if ((pte[0] & ELO_V) == 0 && materialize(p, va, pte) != 0) return -1;
  if (write && (pte[0] & ELO_D) == 0) return -1;
  tlb_update(p, va);
  return 0;
}

/*
 * Copies n bytes from user address uva of p into dst through the page table (never
 * through the TLB, so the kernel takes no user-address exceptions). Pages not yet present
 * are materialized. Returns 0, or -1 for a bad address.
 */
int copyin(struct proc *p, char *dst, u32 uva, u32 n) {
  while (n > 0) {
    if (uva >= USER_VA_LIMIT) return -1;
    u32 *pte = pte_of(p, uva);
    if ((pte[0] & ELO_V) == 0 && materialize(p, uva, pte) != 0) return -1;
    u32 frame = (pte[0] >> ELO_PFN_SHIFT) << PAGE_SHIFT;
    u32 off = uva & (PAGE_SIZE - 1);
    u32 chunk = PAGE_SIZE - off < n ? PAGE_SIZE - off : n;
    memcpy(dst, (const u8 *)PHYS_TO_KVA(frame + off), chunk);
    dst += chunk;
    uva += chunk;
    n -= chunk;
  }
  return 0;
}
