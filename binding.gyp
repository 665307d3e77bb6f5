{
  "targets": [
    {
      "target_name": "garp",
      "sources": ["native/garp.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "nlevents",
      "sources": ["native/nlevents.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "sdnotify",
      "sources": ["native/sdnotify.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "icmpsock",
      "sources": ["native/icmpsock.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "arpprobe",
      "sources": ["native/arpprobe.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "arrival",
      "sources": ["native/arrival.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
