// Prototype (issue 21): decrypts a batch of poll votes with one AES-256-GCM context re-keyed
// per vote, against the OpenSSL that node itself exports (nothing else is linked). Not wired
// into the product; see README.md and docs/performance.md, "Session 9: native AES-GCM prototype".
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <cstdint>
#include <cstring>

namespace {

constexpr size_t KEY = 32, IV = 12, TAG = 16, BLOCK = 64;

// One context per thread that loads the addon: node gives each worker its own instance data.
struct State {
  EVP_CIPHER *gcm = nullptr;
  EVP_CIPHER_CTX *ctx = nullptr;
  // The HMAC pads of the last pseudo-random key seen: a poll's votes share it, so a batch
  // computes them once per run of votes of one poll (SHA256_CTX is a plain struct, copied).
  unsigned char prk[KEY];
  bool havePrk = false;
  SHA256_CTX inner, outer;
};

void freeState(napi_env, void *data, void *) {
  auto *s = static_cast<State *>(data);
  EVP_CIPHER_CTX_free(s->ctx);
  EVP_CIPHER_free(s->gcm);
  delete s;
}

void padsOf(State *s, const unsigned char *prk) {
  if (s->havePrk && memcmp(s->prk, prk, KEY) == 0) return;
  unsigned char block[BLOCK];
  memset(block, 0x36, BLOCK);
  for (size_t i = 0; i < KEY; i++) block[i] ^= prk[i];
  SHA256_Init(&s->inner);
  SHA256_Update(&s->inner, block, BLOCK);
  memset(block, 0x5c, BLOCK);
  for (size_t i = 0; i < KEY; i++) block[i] ^= prk[i];
  SHA256_Init(&s->outer);
  SHA256_Update(&s->outer, block, BLOCK);
  memcpy(s->prk, prk, KEY);
  s->havePrk = true;
}

// HKDF-Expand's one block: HMAC(prk, info), the caller's info already ends in 0x01.
void expand(State *s, const unsigned char *prk, const unsigned char *info, size_t len,
            unsigned char *key) {
  padsOf(s, prk);
  SHA256_CTX c = s->inner;
  SHA256_Update(&c, info, len);
  SHA256_Final(key, &c);
  c = s->outer;
  SHA256_Update(&c, key, KEY);
  SHA256_Final(key, &c);
}

bool open(State *s, const unsigned char *key, const unsigned char *iv, const unsigned char *aad,
          size_t aadLen, const unsigned char *payload, size_t payloadLen, unsigned char *out) {
  if (payloadLen < TAG) return false;
  const size_t textLen = payloadLen - TAG;
  int n = 0;
  if (EVP_DecryptInit_ex(s->ctx, nullptr, nullptr, key, iv) != 1) return false;
  if (aadLen > 0 && EVP_DecryptUpdate(s->ctx, nullptr, &n, aad, (int)aadLen) != 1) return false;
  if (textLen > 0 && EVP_DecryptUpdate(s->ctx, out, &n, payload, (int)textLen) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, TAG,
                          const_cast<unsigned char *>(payload + textLen)) != 1)
    return false;
  return EVP_DecryptFinal_ex(s->ctx, out + textLen, &n) == 1;
}

struct Bytes {
  unsigned char *data = nullptr;
  size_t length = 0;
};

bool bytesOf(napi_env env, napi_value v, Bytes *b) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok)
    return false;
  size_t size = type == napi_uint32_array ? 4 : 1;
  if (size == 1 && type != napi_uint8_array) return false;
  b->data = static_cast<unsigned char *>(data);
  b->length = length * size;
  return true;
}

napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// openBatch(derive, keys, ivs, aad, aadEnd, info, infoEnd, payload, payloadEnd, out, ok)
// Vote i's bytes are [end[i-1], end[i]) of each flat buffer (end[-1] = 0); its plaintext goes
// to out at its payload's start, its tag's room left unused. `derive`: keys holds each vote's
// HKDF pseudo-random key and info its HKDF info, else keys holds the AES keys and info is unread.
// ok[i] = 1 when vote i authenticates; a vote that does not gets its plaintext bytes zeroed.
napi_value openBatch(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 11) return fail(env, "openBatch takes 11 arguments");
  bool derive;
  if (napi_get_value_bool(env, argv[0], &derive) != napi_ok) return fail(env, "derive: boolean");
  Bytes b[10];
  for (int i = 0; i < 10; i++)
    if (!bytesOf(env, argv[i + 1], &b[i])) return fail(env, "a Uint8Array or Uint32Array expected");
  Bytes &keys = b[0], &ivs = b[1], &aad = b[2], &infos = b[4], &payload = b[6], &out = b[8],
        &ok = b[9];
  auto *aadEnd = reinterpret_cast<uint32_t *>(b[3].data);
  auto *infoEnd = reinterpret_cast<uint32_t *>(b[5].data);
  auto *payloadEnd = reinterpret_cast<uint32_t *>(b[7].data);
  const size_t n = ok.length;
  // Every offset is checked before any vote is read, so bad input changes nothing.
  if (keys.length != n * KEY || ivs.length != n * IV || b[3].length != 4 * n ||
      b[7].length != 4 * n || (derive && b[5].length != 4 * n) || out.length < payload.length)
    return fail(env, "batch arrays disagree on the number of votes");
  for (size_t i = 0; i < n; i++) {
    if (aadEnd[i] > aad.length || payloadEnd[i] > payload.length ||
        (derive && infoEnd[i] > infos.length) || (i > 0 && (aadEnd[i] < aadEnd[i - 1] ||
        payloadEnd[i] < payloadEnd[i - 1] || (derive && infoEnd[i] < infoEnd[i - 1]))))
      return fail(env, "batch offsets out of order or past their buffer");
  }
  State *s;
  napi_get_instance_data(env, reinterpret_cast<void **>(&s));
  unsigned char key[KEY];
  for (size_t i = 0; i < n; i++) {
    const size_t a0 = i ? aadEnd[i - 1] : 0, p0 = i ? payloadEnd[i - 1] : 0;
    const unsigned char *k = keys.data + i * KEY;
    if (derive) {
      const size_t f0 = i ? infoEnd[i - 1] : 0;
      expand(s, k, infos.data + f0, infoEnd[i] - f0, key);
      k = key;
    }
    const bool good = open(s, k, ivs.data + i * IV, aad.data + a0, aadEnd[i] - a0,
                           payload.data + p0, payloadEnd[i] - p0, out.data + p0);
    // An unauthenticated plaintext is never handed out.
    if (!good && payloadEnd[i] - p0 > TAG) memset(out.data + p0, 0, payloadEnd[i] - p0 - TAG);
    ok.data[i] = good ? 1 : 0;
  }
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  auto *s = new State();
  s->gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  s->ctx = EVP_CIPHER_CTX_new();
  if (!s->gcm || !s->ctx || EVP_DecryptInit_ex(s->ctx, s->gcm, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_IVLEN, IV, nullptr) != 1) {
    freeState(env, s, nullptr);
    napi_throw_error(env, nullptr, "OpenSSL has no AES-256-GCM here");
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
