{
  "targets": [
    {
      "target_name": "netfilter_collector",
      "sources": [
        "native/addon.cc",
        "native/datagram_socket.cc",
        "native/reader.cc",
        "native/nflog_socket.cc",
        "native/group_owner.cc",
        "native/rtnl_socket.cc",
        "native/conntrack_socket.cc",
        "native/netlink_util.cc",
        "native/netns.cc",
        "native/sys_error.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": [
        "-O2",
        "<!@(pkg-config --cflags libnetfilter_log libnetfilter_conntrack libnfnetlink libmnl)"
      ],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2"],
      "libraries": [
        "<!@(pkg-config --libs libnetfilter_log libnetfilter_conntrack libnfnetlink libmnl)"
      ]
    }
  ]
}
