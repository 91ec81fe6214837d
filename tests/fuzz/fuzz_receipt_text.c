/* fuzz_receipt_text: libFuzzer harness for a receipt as text (protocol.md §4.1), what a
 * scanner hands `xueshi verify --scan`. Whatever decodes must encode back to the very text
 * (white space around it aside): one text per envelope. The bytes are then opened as a
 * receipt, which must refuse them cleanly or open them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/receipt.h"
#include "xs/text.h"

/* Inputs past this gain nothing: the decoder refuses them by length. */
#define FUZZ_MAX_INPUT (XS_RECEIPT_TEXT_MAX + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t envelope[XS_RECEIPT_TEXT_BYTES_MAX];
    static char again[XS_RECEIPT_TEXT_MAX + 1];
    static xs_receipt_t receipt;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    size_t len = 0, n = 0;
    xs_err err = xs_receipt_text_decode((const char *)data, size, envelope, sizeof envelope, &len);
    if (err != XS_OK) {
        if (err != XS_EMALFORMED && err != XS_ETOOBIG)
            abort();
        return 0;
    }
    if (len == 0 || len > sizeof envelope ||
        xs_receipt_text_encode(envelope, len, again, sizeof again, &n) != XS_OK)
        abort();
    const char *text = (const char *)data;
    size_t text_len = size;
    xs_text_trim(&text, &text_len);
    if (n != text_len || memcmp(again, text, n) != 0)
        abort();
    err = xs_receipt_open(envelope, len, NULL, &receipt);
    if (err != XS_OK && err != XS_EMALFORMED && err != XS_EVERSION && err != XS_ECRYPTO &&
        err != XS_ETOOBIG)
        abort();
    return 0;
}
