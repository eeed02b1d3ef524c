#ifndef MCPGEN_CLIBCRYPTO_SHIM_H
#define MCPGEN_CLIBCRYPTO_SHIM_H
// The EVP interface only: SHA-256 and SHA-512 digests, and the signatures of TUF metadata
// (Ed25519, ECDSA P-256, RSA-PSS) with their PEM key formats. The only implementation of each.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#endif
