{
  "targets": [
    {
      "target_name": "coco_stitcher_native",
      "sources": ["src/addon.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "libraries": ["-ldeflate"]
    }
  ]
}
