{
  "targets": [
    {
      "target_name": "coco_stitcher_native",
      "sources": ["src/addon.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "libraries": ["-ldeflate"],
      "conditions": [
        ["<!(test -f /usr/include/jpeglib.h && echo 1 || echo 0)==1", {
          "defines": ["HAVE_LIBJPEG"],
          "libraries": ["-ljpeg"]
        }],
        ["<!(test -f /usr/include/zstd.h && echo 1 || echo 0)==1", {
          "defines": ["HAVE_LIBZSTD"],
          "libraries": ["-lzstd"]
        }]
      ]
    }
  ]
}
