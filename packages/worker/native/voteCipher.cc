// Opens a batch of WhatsApp poll votes in one call: HKDF-Expand (HMAC-SHA256) of each vote's
// key from its poll's pseudo-random key, then AES-256-GCM, with one cipher context re-keyed
// per vote. node:crypto makes a cipher object per vote, which is most of what a vote costs the
// worker (docs/performance.md, "Session 10"). It links nothing: the OpenSSL and N-API symbols
// are node's own. packages/worker/src/votes/voteCipher.ts loads it, or uses node:crypto when it
// is not built; packages/worker/test/voteCipher.test.ts checks both against Baileys.
#include <node_api.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

namespace {

constexpr size_t PRK = 32, KEY = 32, IV = 12, TAG = 16, HEAD = PRK + IV, BLOCK = 64;

// One per thread that loads the addon (node gives each worker thread its own instance data).
struct State {
  EVP_CIPHER *gcm = nullptr;
  EVP_CIPHER_CTX *cipher = nullptr;
  EVP_MD *sha256 = nullptr;
  // HMAC's inner and outer hashes after the key's padded block, for the last pseudo-random
  // key seen: a poll's votes share it, so a run of them pays for the pads once. `work` is
  // each vote's copy of one of them.
  EVP_MD_CTX *inner = nullptr, *outer = nullptr, *work = nullptr;
  unsigned char prk[PRK];
  bool havePads = false;
};

void freeState(napi_env, void *data, void *) {
  auto *s = static_cast<State *>(data);
  EVP_CIPHER_CTX_free(s->cipher);
  EVP_CIPHER_free(s->gcm);
  EVP_MD_CTX_free(s->inner);
  EVP_MD_CTX_free(s->outer);
  EVP_MD_CTX_free(s->work);
  EVP_MD_free(s->sha256);
  delete s;
}

bool padsOf(State *s, const unsigned char *prk) {
  if (s->havePads && memcmp(s->prk, prk, PRK) == 0) return true;
  s->havePads = false;
  unsigned char block[BLOCK];
  for (int pass = 0; pass < 2; pass++) {
    memset(block, pass == 0 ? 0x36 : 0x5c, BLOCK);
    for (size_t i = 0; i < PRK; i++) block[i] ^= prk[i];
    EVP_MD_CTX *ctx = pass == 0 ? s->inner : s->outer;
    if (EVP_DigestInit_ex(ctx, s->sha256, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, block, BLOCK) != 1)
      return false;
  }
  memcpy(s->prk, prk, PRK);
  s->havePads = true;
  return true;
}

// HKDF-Expand's one block: HMAC(prk, info), where the caller's info already ends in 0x01.
bool expand(State *s, const unsigned char *prk, const unsigned char *info, size_t length,
            unsigned char *key) {
  unsigned int n = 0;
  return padsOf(s, prk) && EVP_MD_CTX_copy_ex(s->work, s->inner) == 1 &&
         EVP_DigestUpdate(s->work, info, length) == 1 &&
         EVP_DigestFinal_ex(s->work, key, &n) == 1 && EVP_MD_CTX_copy_ex(s->work, s->outer) == 1 &&
         EVP_DigestUpdate(s->work, key, KEY) == 1 && EVP_DigestFinal_ex(s->work, key, &n) == 1;
}

// AES-256-GCM: the payload's last 16 bytes are the tag; the plaintext goes to `out`.
bool open(State *s, const unsigned char *key, const unsigned char *iv, const unsigned char *aad,
          size_t aadLength, const unsigned char *payload, size_t payloadLength,
          unsigned char *out) {
  if (payloadLength < TAG) return false;
  const size_t textLength = payloadLength - TAG;
  int n = 0;
  return EVP_DecryptInit_ex(s->cipher, nullptr, nullptr, key, iv) == 1 &&
         (aadLength == 0 ||
          EVP_DecryptUpdate(s->cipher, nullptr, &n, aad, static_cast<int>(aadLength)) == 1) &&
         (textLength == 0 ||
          EVP_DecryptUpdate(s->cipher, out, &n, payload, static_cast<int>(textLength)) == 1) &&
         EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_TAG, TAG,
                             const_cast<unsigned char *>(payload + textLength)) == 1 &&
         EVP_DecryptFinal_ex(s->cipher, out + textLength, &n) == 1;
}

bool bytesOf(napi_env env, napi_value value, napi_typedarray_type want, void **data,
             size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) ==
             napi_ok &&
         type == want;
}

napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// openBatch(bytes: Uint8Array, ends: Uint32Array, out: Uint8Array, ok: Uint8Array)
//
// Vote i is the record bytes[start, ends[3i + 2]), where start is the previous record's end
// (0 for the first): its poll's HKDF pseudo-random key (32 bytes), its iv (12), then its AAD
// up to ends[3i], HKDF's info up to ends[3i + 1] and the payload (ciphertext and tag) up to
// ends[3i + 2]. The plaintext is written to `out` at the payload's own offset. ok[i] = 1 when
// the vote authenticates; one that does not gets ok[i] = 0 and its plaintext bytes zeroed, so
// nothing unauthenticated is handed out. Every offset is checked before any vote is read: a
// bad batch throws a TypeError and writes nothing.
napi_value openBatch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 4)
    return fail(env, "openBatch(bytes, ends, out, ok) takes 4 arguments");
  void *bytesData, *endsData, *outData, *okData;
  size_t bytesLength, endsLength, outLength, n;
  if (!bytesOf(env, argv[0], napi_uint8_array, &bytesData, &bytesLength) ||
      !bytesOf(env, argv[1], napi_uint32_array, &endsData, &endsLength) ||
      !bytesOf(env, argv[2], napi_uint8_array, &outData, &outLength) ||
      !bytesOf(env, argv[3], napi_uint8_array, &okData, &n))
    return fail(env, "openBatch takes a Uint8Array, a Uint32Array and two Uint8Arrays");
  const auto *bytes = static_cast<const unsigned char *>(bytesData);
  const auto *ends = static_cast<const uint32_t *>(endsData);
  auto *out = static_cast<unsigned char *>(outData);
  auto *ok = static_cast<unsigned char *>(okData);
  if (endsLength != 3 * n) return fail(env, "ends must hold 3 offsets per vote");
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t *e = ends + 3 * i;
    if (start + HEAD > e[0] || e[0] > e[1] || e[1] > e[2] || e[2] > bytesLength)
      return fail(env, "a vote's offsets are out of order or past the batch");
    start = e[2];
  }
  if (outLength < start) return fail(env, "out is shorter than the batch");
  State *s = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void **>(&s)) != napi_ok || s == nullptr)
    return fail(env, "the vote cipher was not initialised");
  unsigned char key[KEY];
  start = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t *e = ends + 3 * i;
    const unsigned char *record = bytes + start;
    const size_t aadAt = start + HEAD;
    // A payload shorter than its tag is no vote: refused before any key is derived for it.
    const bool good = e[2] - e[1] >= TAG && expand(s, record, bytes + e[0], e[1] - e[0], key) &&
                      open(s, key, record + PRK, bytes + aadAt, e[0] - aadAt, bytes + e[1],
                           e[2] - e[1], out + e[1]);
    if (!good && e[2] - e[1] > TAG) memset(out + e[1], 0, e[2] - e[1] - TAG);
    ok[i] = good ? 1 : 0;
    start = e[2];
  }
  OPENSSL_cleanse(key, KEY);
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  auto *s = new State();
  s->gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  s->cipher = EVP_CIPHER_CTX_new();
  s->sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  s->inner = EVP_MD_CTX_new();
  s->outer = EVP_MD_CTX_new();
  s->work = EVP_MD_CTX_new();
  if (!s->gcm || !s->cipher || !s->sha256 || !s->inner || !s->outer || !s->work ||
      EVP_DecryptInit_ex(s->cipher, s->gcm, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_IVLEN, IV, nullptr) != 1) {
    freeState(env, s, nullptr);
    napi_throw_error(env, nullptr, "node's OpenSSL has no AES-256-GCM or SHA-256");
    return nullptr;
  }
  napi_set_instance_data(env, s, freeState, nullptr);
  napi_value fn;
  napi_create_function(env, "openBatch", NAPI_AUTO_LENGTH, openBatch, nullptr, &fn);
  napi_set_named_property(env, exports, "openBatch", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
