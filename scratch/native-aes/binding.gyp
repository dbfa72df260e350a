{
  "targets": [
    {
      "target_name": "native_aes",
      "sources": ["native_aes.cc"],
      "cflags_cc": ["-O2", "-Wno-deprecated-declarations"]
    }
  ]
}
