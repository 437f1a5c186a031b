{
  # libdeflate is required; libjpeg and libzstd are linked when pkg-config
  # finds them (Debian: libjpeg-dev, libzstd-dev), and the addon builds
  # without them, lacking jpegDecode / zstdDecompress (see index.d.ts).
  "targets": [
    {
      "target_name": "coco_stitcher_native",
      "sources": ["src/addon.c", "src/accumulate.c", "src/copy-range.c"],
      "cflags": ["-O2", "-std=c11", "-ffp-contract=off", "-Wall", "-Wextra", "<!@(pkg-config --cflags libdeflate 2>/dev/null || true)"],
      "libraries": ["<!@(pkg-config --libs libdeflate 2>/dev/null || echo -ldeflate)"],
      "conditions": [
        ["<!(pkg-config --exists libjpeg 2>/dev/null && echo 1 || echo 0)==1", {
          "defines": ["HAVE_LIBJPEG"],
          "cflags": ["<!@(pkg-config --cflags libjpeg)"],
          "libraries": ["<!@(pkg-config --libs libjpeg)"]
        }],
        ["<!(pkg-config --exists libzstd 2>/dev/null && echo 1 || echo 0)==1", {
          "defines": ["HAVE_LIBZSTD"],
          "cflags": ["<!@(pkg-config --cflags libzstd)"],
          "libraries": ["<!@(pkg-config --libs libzstd)"]
        }]
      ]
    }
  ]
}
