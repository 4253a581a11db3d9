/* ACPI power-off, the fallback exit when there is no isa-debug-exit
 * device: the FADT gives the PM1 control ports, the DSDT's \_S5 package
 * the sleep type for "soft off". Only what that needs: the RSDP in the
 * BIOS areas, the RSDT/XSDT, the FADT, and a byte scan of the DSDT for
 * the _S5_ name (no AML interpreter). Everything is read at boot while
 * the boot page tables still map the first 4 GiB. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

static uint16_t pm1a_cnt, pm1b_cnt;
static uint16_t slp_typ_a, slp_typ_b;
static int s5_found;

static int same(const void *a, const char *b, size_t n)
{
    const char *p = a;
    for (size_t i = 0; i < n; i++)
        if (p[i] != b[i])
            return 0;
    return 1;
}

static int checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum == 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A fixed low address as a pointer GCC does not reason about (it takes
 * small constants for offsets from NULL). */
static const void *low(uintptr_t a)
{
    __asm__("" : "+r"(a));
    return (const void *)a;
}

static const uint8_t *find_rsdp(void)
{
    uintptr_t ebda = (uintptr_t)(*(const volatile uint16_t *)low(0x40e)) << 4;
    uintptr_t areas[2][2] = { { ebda, ebda + 1024 }, { 0xe0000, 0x100000 } };
    for (int a = 0; a < 2; a++) {
        if (areas[a][0] < 0x400 || areas[a][1] > 0x100000)
            continue;
        for (uintptr_t p = areas[a][0]; p + 20 <= areas[a][1]; p += 16)
            if (same(low(p), "RSD PTR ", 8) && checksum_ok(low(p), 20))
                return low(p);
    }
    return NULL;
}

/* A table at addr with signature sig, length sane and checksum right. */
static const uint8_t *table(uint64_t addr, const char *sig)
{
    if (addr == 0 || addr >= 0xfec00000ull)
        return NULL;
    const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
    uint32_t len = rd32(t + 4);
    if (!same(t, sig, 4) || len < 36 || len > (1u << 20) || !checksum_ok(t, len))
        return NULL;
    return t;
}

static const uint8_t *find_fadt(const uint8_t *rsdp)
{
    const uint8_t *x = rsdp[15] >= 2 ? table(rd64(rsdp + 24), "XSDT") : NULL;
    const uint8_t *r = x ? x : table(rd32(rsdp + 16), "RSDT");
    if (!r)
        return NULL;
    unsigned size = x ? 8 : 4;
    for (uint32_t off = 36; off + size <= rd32(r + 4); off += size) {
        const uint8_t *t = table(x ? rd64(r + off) : rd32(r + off), "FACP");
        if (t)
            return t;
    }
    return NULL;
}

/* One AML integer of the \_S5 package: ZeroOp, OneOp, BytePrefix n. */
static int aml_byte(const uint8_t **p, const uint8_t *end, uint16_t *v)
{
    if (*p >= end)
        return -1;
    if (**p == 0x0a) {
        if (*p + 1 >= end)
            return -1;
        *v = (*p)[1];
        *p += 2;
        return 0;
    }
    if (**p > 1)
        return -1;
    *v = **p;
    *p += 1;
    return 0;
}

static void find_s5(const uint8_t *dsdt)
{
    const uint8_t *p = dsdt + 36, *end = dsdt + rd32(dsdt + 4);
    for (; p + 8 < end; p++) {
        if (!same(p, "_S5_", 4) || p[4] != 0x12) /* the name, then PackageOp */
            continue;
        const uint8_t *q = p + 5;
        q += ((*q >> 6) & 3) + 1; /* PkgLength */
        q += 1;                   /* NumElements */
        if (aml_byte(&q, end, &slp_typ_a) == 0 && aml_byte(&q, end, &slp_typ_b) == 0)
            s5_found = 1;
        return;
    }
}

void virtio_acpi_init(void)
{
    const uint8_t *rsdp = find_rsdp();
    const uint8_t *fadt = rsdp ? find_fadt(rsdp) : NULL;
    if (!fadt || rd32(fadt + 4) < 76)
        return;
    pm1a_cnt = (uint16_t)rd32(fadt + 64);
    pm1b_cnt = (uint16_t)rd32(fadt + 68);
    uint64_t dsdt = rd32(fadt + 40);
    if (rd32(fadt + 4) >= 148 && rd64(fadt + 140))
        dsdt = rd64(fadt + 140);
    const uint8_t *d = table(dsdt, "DSDT");
    if (d)
        find_s5(d);
}

void virtio_acpi_poweroff(void)
{
    if (!pm1a_cnt || !s5_found)
        return;
    outw(pm1a_cnt, (uint16_t)((slp_typ_a << 10) | (1u << 13)));
    if (pm1b_cnt)
        outw(pm1b_cnt, (uint16_t)((slp_typ_b << 10) | (1u << 13)));
    for (int i = 0; i < 1000000; i++) /* the power goes, or it does not */
        __builtin_ia32_pause();
}
