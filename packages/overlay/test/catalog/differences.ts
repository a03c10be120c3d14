/**
 * Where Strata answers differently from the kernel run recorded in the catalog, on purpose.
 * The catalog's kernel ran with overlayfs defaults (redirect_dir, index, xino off); Strata
 * behaves as `redirect_dir=on,index=on,xino=on` and goes further where a container runtime
 * has a reason to. Each entry names the check, Strata's answer (which the catalog test
 * asserts instead of the kernel's) and why. The package README carries the same table.
 */
export interface Difference {
  check: string;
  ours: unknown;
  why: string;
}

const WHY = {
  xattrs: 'diff compares xattrs: an xattr-only change is a change (the naive docker diff the catalog recorded misses it, yet commit must carry it)',
  openwrite: 'opening a lower file for writing does not copy it up; copy-up waits for the first change, so the parent stays a lower-only directory and reports its real link count',
  perms: 'no uid-based permission checks: a WASI program has no user identity and every container runs as root, as docker\'s default user; files it creates are owned by 0:0',
  content: 'diff compares contents, not only size and mtime: a rename or exchange of files with equal size and mtime is still a change',
  redirect: 'redirect_dir=on: renaming a lower or merged directory works (the kernel default answers EXDEV)',
  index: 'index=on: copy-up keeps a lower hard link one inode, as C59 records for the kernel with index=on',
  aliases: 'diff lists every name of a lower hard link changed through another name (they stay one inode, and the committed layer carries them); the kernel\'s upper shows only the name written to',
  layers: 'no 500-layer limit: the lowers are flattened once, so depth costs nothing and 501 layers mount',
} as const;

export const DIFFERENCES: Record<string, Difference[]> = {
  C15: [
    { check: "changes", why: WHY.xattrs, ours: [["C","/o"]] },
  ],
  C30: [
    { check: "changes", why: WHY.xattrs, ours: [["C","/x"],["C","/x/f"]] },
  ],
  C26: [
    { check: "merged /srv", why: WHY.openwrite, ours: {"gid":0,"mode":"0755","mtime":1700000000,"nlink":2,"path":"/srv","type":"dir","uid":0} },
  ],
  C31: [
    { check: "op 0 append", why: WHY.perms, ours: {"ok":true,"errno":null} },
    { check: "op 3 unlink", why: WHY.perms, ours: {"ok":true,"errno":null} },
    { check: "merged /etc", why: WHY.perms, ours: {"gid":0,"mode":"0755","mtime":"NEW","nlink":1,"path":"/etc","type":"dir","uid":0} },
    { check: "merged /etc/ro", why: WHY.perms, ours: "missing" },
    { check: "merged /home/u/new", why: WHY.perms, ours: {"content":"n","gid":0,"mode":"0644","mtime":"NEW","nlink":1,"path":"/home/u/new","sha256":"1b16b1df538ba12dc3f97edbb85caa7050d46c148134290feba80f8236c83db9","size":1,"type":"file","uid":0} },
    { check: "changes", why: WHY.perms, ours: [["C","/etc"],["D","/etc/ro"],["C","/home"],["C","/home/u"],["C","/home/u/mine"],["A","/home/u/new"]] },
  ],
  C48: [
    { check: "changes", why: WHY.content, ours: [["D","/a"],["C","/b"]] },
  ],
  C55: [
    { check: "changes", why: WHY.content, ours: [["C","/x"],["C","/y"]] },
  ],
  C49: [
    { check: "op 0 rename", why: WHY.redirect, ours: {"ok":true,"errno":null} },
    { check: "op 1 rename", why: WHY.redirect, ours: {"ok":true,"errno":null} },
    { check: "merged /", why: WHY.redirect, ours: {"gid":0,"mode":"0755","mtime":"NEW","nlink":1,"path":"/","type":"dir","uid":0} },
    { check: "merged /ld", why: WHY.redirect, ours: "missing" },
    { check: "merged /ld/f", why: WHY.redirect, ours: "missing" },
    { check: "merged /le", why: WHY.redirect, ours: "missing" },
    { check: "merged /ld2", why: WHY.redirect, ours: "present" },
    { check: "merged /ld2/f", why: WHY.redirect, ours: "present" },
    { check: "merged /le2", why: WHY.redirect, ours: "present" },
    { check: "changes", why: WHY.redirect, ours: [["D","/ld"],["A","/ld2"],["A","/ld2/f"],["D","/le"],["A","/le2"]] },
  ],
  C50: [
    { check: "op 1 rename", why: WHY.redirect, ours: {"ok":true,"errno":null} },
    { check: "merged /", why: WHY.redirect, ours: {"gid":0,"mode":"0755","mtime":"NEW","nlink":1,"path":"/","type":"dir","uid":0} },
    { check: "merged /md", why: WHY.redirect, ours: "missing" },
    { check: "merged /md/f", why: WHY.redirect, ours: "missing" },
    { check: "merged /md/g", why: WHY.redirect, ours: "missing" },
    { check: "merged /md2", why: WHY.redirect, ours: "present" },
    { check: "merged /md2/f", why: WHY.redirect, ours: "present" },
    { check: "merged /md2/g", why: WHY.redirect, ours: "present" },
    { check: "changes", why: WHY.redirect, ours: [["D","/md"],["A","/md2"],["A","/md2/f"],["A","/md2/g"]] },
  ],
  C56: [
    { check: "changes", why: WHY.aliases, ours: [["C","/h"],["D","/h/a"],["C","/h/b"],["A","/h/c"]] },
    { check: "op 2 read", why: WHY.index, ours: {"ok":true,"result":{"bytes":2,"sha256":"994ffebbe005310ddffd8e04129bd6122cb3decad09a3d353401a37a502be00f","text":"H+"}} },
    { check: "merged /h/b", why: WHY.index, ours: {"content":"H+","gid":0,"mode":"0644","mtime":"NEW","nlink":2,"path":"/h/b","sha256":"994ffebbe005310ddffd8e04129bd6122cb3decad09a3d353401a37a502be00f","size":2,"type":"file","uid":0} },
    { check: "merged /h/c", why: WHY.index, ours: {"content":"H+","gid":0,"mode":"0644","mtime":"NEW","nlink":2,"path":"/h/c","sha256":"994ffebbe005310ddffd8e04129bd6122cb3decad09a3d353401a37a502be00f","size":2,"type":"file","uid":0} },
    { check: "hard-link groups", why: WHY.index, ours: [["/h/b","/h/c"]] },
  ],
  C57: [
    { check: "changes", why: WHY.aliases, ours: [["C","/h"],["C","/h/a"],["C","/h/b"]] },
    { check: "op 3 stat", why: WHY.index, ours: {"ok":true,"result":{"gid":0,"mode":"0644","nlink":2,"same_inode_as_A0":true,"size":8,"st_dev_same_as_root":true,"type":"file","uid":0}} },
    { check: "op 4 read", why: WHY.index, ours: {"ok":true,"result":{"bytes":8,"sha256":"ccc8d7d64fe263b8f0d6684b9b1ee555b230e41ecb373ddff217a9b957eca2dd","text":"orig+new"}} },
    { check: "op 5 stat", why: WHY.index, ours: {"ok":true,"result":{"gid":0,"mode":"0644","nlink":2,"same_inode_as_A1":true,"size":8,"st_dev_same_as_root":true,"type":"file","uid":0}} },
    { check: "merged /h/a", why: WHY.index, ours: {"content":"orig+new","gid":0,"mode":"0644","mtime":"NEW","nlink":2,"path":"/h/a","sha256":"ccc8d7d64fe263b8f0d6684b9b1ee555b230e41ecb373ddff217a9b957eca2dd","size":8,"type":"file","uid":0} },
    { check: "merged /h/b", why: WHY.index, ours: {"content":"orig+new","gid":0,"mode":"0644","mtime":"NEW","nlink":2,"path":"/h/b","sha256":"ccc8d7d64fe263b8f0d6684b9b1ee555b230e41ecb373ddff217a9b957eca2dd","size":8,"type":"file","uid":0} },
    { check: "hard-link groups", why: WHY.index, ours: [["/h/a","/h/b"]] },
  ],
  C70: [
    { check: "mount", why: WHY.layers, ours: "ok" },
  ],
  C59: [
    { check: "changes", why: WHY.aliases, ours: [["C","/h"],["C","/h/a"],["C","/h/b"]] },
  ],
};
