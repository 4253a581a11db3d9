/* virtio console: the first serial port (COM1, a 16550 UART), polled
 * (plat.h). Up to 16 bytes go into the transmit FIFO per "empty" check;
 * under a hypervisor every port access is an exit, so this halves them
 * compared with checking before every byte. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20
#define FIFO_BYTES 16

void virtio_console_init(void)
{
    outb(COM1 + 1, 0x00); /* no UART interrupts */
    outb(COM1 + 3, 0x80); /* DLAB: set the divisor */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0x07); /* FIFOs on and cleared */
}

void plat_console_write(const char *buf, size_t len)
{
    while (len > 0) {
        /* A missing UART reads 0xff: "empty", and the bytes go nowhere. */
        while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
            __builtin_ia32_pause();
        size_t n = len < FIFO_BYTES ? len : FIFO_BYTES;
        for (size_t i = 0; i < n; i++)
            outb(COM1, (uint8_t)buf[i]);
        buf += n;
        len -= n;
    }
}
