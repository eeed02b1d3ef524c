#ifndef MCPGEN_CLIBCRYPTO_SHIM_H
#define MCPGEN_CLIBCRYPTO_SHIM_H
// Only the EVP digest interface is used: SHA-256 comes from libcrypto and nowhere else.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#endif
