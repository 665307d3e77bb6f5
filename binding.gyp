{
  "targets": [
    {
      "target_name": "garp",
      "sources": ["native/garp.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
