#!/usr/bin/env python3
"""Hostile PyTorch checkpoints for xlstm.h's torch.save reader (zip + restricted unpickler).

usage: make_bad_checkpoints.py [OUT_DIR] [--check] [--seeds DIR]

  OUT_DIR   default tests/data/tirex/bad; gets one file per case and expected.txt
            ("FILE STATUS_NAME" per line: the xlstm_status a careful loader returns)
  --check   first prove the writer faithful: re-pickle the golden
            tests/data/tirex/a_d64_h2_b2_p32/model.ckpt from its own unpickled content and
            rebuild its zip; both must come out byte-identical to the original
  --seeds DIR  also write the valid tiny checkpoints (fuzz seeds) to DIR

Plain python3, no torch: the pickles come from the pickle module (protocol 2, as torch.save
writes) with stand-ins registered as torch.FloatStorage, torch._utils._rebuild_tensor_v2, ...,
so they carry exactly the opcodes torch writes; the zips from a writer that lays entries out as
torch's (miniz) writer does: a local header with zeroed sizes and a "FB" padding field aligning
the data to 64 bytes, a data descriptor after the data, a central directory, a zip64 end record
and locator, and the classic end record. The hostile pickles are written opcode by opcode.

Two bases, both with the real model.ckpt's Lightning structure (epoch, global_step, state_dict,
loops, callbacks with a float64 tensor, optimizer_states, ..., hyper_parameters):
  tiny: a complete TiRex model (D 8, 1 head, 1 block, patch 4, ctx 8, input_ff_dim 8, 9
        quantiles), ~20 KB, which loads; the cases that fail only in the weight loader use it
  mini: the same hyper_parameters with only the first two state_dict tensors, ~3 KB; the cases
        that fail in the zip, the pickle or the config use it (the total stays far under 1 MB)
The pickles that would run code (posix.system, builtins.eval, os.system via STACK_GLOBAL,
INST os.system) run `touch /tmp/xlstm-pwned-NAME` if a real unpickler loaded them: a test
checks that loading them only fails.
"""
import io
import os
import pickle
import random
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "data", "tirex", "a_d64_h2_b2_p32", "model.ckpt")

# ----------------------------------------------------------------------------- torch stand-ins
_torch = types.ModuleType("torch")
_utils = types.ModuleType("torch._utils")
_torch._utils = _utils
STORAGE_TYPES = {"FloatStorage": 4, "DoubleStorage": 8, "LongStorage": 8, "HalfStorage": 2,
                 "BFloat16Storage": 2, "IntStorage": 4, "ByteStorage": 1, "CharStorage": 1}
for _n in STORAGE_TYPES:
    _c = type(_n, (), {})
    _c.__module__ = "torch"
    _c.__qualname__ = _n
    setattr(_torch, _n, _c)


class Storage:
    """One zip entry data/<key>: numel elements of cls (a torch.XxxStorage stand-in)."""

    def __init__(self, cls, key, numel, data, location="cpu"):
        self.cls, self.key, self.numel, self.data, self.location = cls, key, numel, data, location


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, *meta):
    return Tensor(storage, offset, size, stride, requires_grad, hooks)


_rebuild_tensor_v2.__module__ = "torch._utils"
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Tensor:
    def __init__(self, storage, offset, size, stride, requires_grad=False, hooks=None):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.requires_grad = requires_grad
        self.hooks = OrderedDict() if hooks is None else hooks

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, self.requires_grad,
                                     self.hooks))


sys.modules.setdefault("torch", _torch)
sys.modules.setdefault("torch._utils", _utils)


def contiguous_stride(shape):
    st, acc = [], 1
    for d in reversed(shape):
        st.append(acc)
        acc *= d
    return tuple(reversed(st))


def f32_tensor(key, shape, values):
    n = 1
    for d in shape:
        n *= d
    assert len(values) == n
    return Tensor(Storage(_torch.FloatStorage, key, n, struct.pack("<%df" % n, *values)), 0, shape,
                  contiguous_stride(shape))


# ----------------------------------------------------------------------------- pickles
class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, obj.location, obj.numel)
        return None


def dump(obj):
    f = io.BytesIO()
    _Pickler(f, protocol=2).dump(obj)
    return f.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, mod, name):
        if mod == "collections" and name == "OrderedDict":
            return OrderedDict
        if mod == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if mod == "torch" and name in STORAGE_TYPES:
            return getattr(_torch, name)
        raise pickle.UnpicklingError("global %s.%s" % (mod, name))

    def persistent_load(self, pid):
        tag, cls, key, loc, numel = pid
        assert tag == "storage"
        if key not in self.storages:
            self.storages[key] = Storage(cls, key, numel, self.entries[key], loc)
        return self.storages[key]


def storages_of(obj, out=None):
    """Every Storage reachable from obj, each once, in pickling order."""
    out = OrderedDict() if out is None else out
    if isinstance(obj, Tensor):
        out.setdefault(obj.storage.key, obj.storage)
    elif isinstance(obj, dict):
        for v in obj.values():
            storages_of(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            storages_of(v, out)
    return out


# ----------------------------------------------------------------------------- zips
def _dos_le(fmt, *v):
    return struct.pack("<" + fmt, *v)


def zip_bytes(entries, zip64=True, align=64):
    """entries: (name, data[, method]) in order; method 8 deflates (raw). Laid out as torch's
    writer lays them out. Returns (bytes, layout) with the offsets of the pieces."""
    out = bytearray()
    cd = bytearray()
    lay = {"local": [], "data": []}
    for e in entries:
        name, data = e[0], e[1]
        method = e[2] if len(e) > 2 else 0
        nb = name.encode()
        stored = data
        if method == 8:
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = co.compress(data) + co.flush()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        off = len(out)
        start = off + 30 + len(nb)
        pad = (-(start + 4)) % align if align else 0
        extra = b"FB" + _dos_le("H", pad) + b"Z" * pad if align else b""
        out += b"PK\x03\x04" + _dos_le("HHHHHIIIHH", 0, 0x0808, method, 0, 0, 0, 0, 0, len(nb), len(extra))
        out += nb + extra
        lay["local"].append(off)
        lay["data"].append(len(out))
        out += stored
        out += b"PK\x07\x08" + _dos_le("III", crc, len(stored), len(data))
        cd += b"PK\x01\x02" + _dos_le("HHHHHHIIIHHHHHII", 0, 0, 0x0808, method, 0, 0, crc, len(stored),
                                      len(data), len(nb), 0, 0, 0, 0, 0, off)
        cd += nb
    cd_off = len(out)
    lay["cd"] = cd_off
    out += cd
    n = len(entries)
    if zip64:
        lay["zip64"] = len(out)
        out += b"PK\x06\x06" + _dos_le("QHHIIQQQQ", 44, 0x031E, 0x2D, 0, 0, n, n, len(cd), cd_off)
        lay["locator"] = len(out)
        out += b"PK\x06\x07" + _dos_le("IQI", 0, lay["zip64"], 1)
    lay["eocd"] = len(out)
    out += b"PK\x05\x06" + _dos_le("HHHHIIH", 0, 0, n, n, len(cd), cd_off, 0)
    return bytes(out), lay


def read_ckpt(path):
    """(top, object, zip entry order) of a torch.save file."""
    z = zipfile.ZipFile(path)
    names = z.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl")][0]
    top = pkl[: -len("data.pkl")]
    entries = {n[len(top) + len("data/"):]: z.read(n) for n in names if n.startswith(top + "data/")}
    u = _Unpickler(io.BytesIO(z.read(pkl)), {})
    u.entries = entries
    obj = u.load()
    return top, obj, names, z


def ckpt_entries(obj, top="model/", pkl=None, extra_version=True):
    """The zip entries torch.save writes for obj: data.pkl, data/<key> per storage, version."""
    ents = [(top + "data.pkl", dump(obj) if pkl is None else pkl)]
    for key, s in storages_of(obj).items():
        ents.append((top + "data/" + key, s.data))
    if extra_version:
        ents.append((top + "version", b"3\n"))
    return ents


def sorted_like_torch(ents):
    """torch.save writes data.pkl, then the storages in key order as strings, then version."""
    head = [e for e in ents if e[0].endswith("data.pkl")]
    mid = sorted([e for e in ents if "/data/" in e[0]], key=lambda e: e[0])
    tail = [e for e in ents if e not in head and e not in mid]
    return head + mid + tail


def check_golden():
    top, obj, names, z = read_ckpt(GOLDEN)
    orig_pkl = z.read(top + "data.pkl")
    again = dump(obj)
    assert again == orig_pkl, "re-pickling the golden data.pkl differs"
    ents = [(n, z.read(n)) for n in names]
    data, _ = zip_bytes(ents)
    with open(GOLDEN, "rb") as f:
        assert data == f.read(), "rebuilding the golden zip differs"
    print("check: the golden model.ckpt re-pickles and re-zips byte-identically")


# ----------------------------------------------------------------------------- the bases
def lightning(state_dict, hp):
    """The real model.ckpt's top level (tools/make_tirex_reference.py: checkpoint_object)."""
    progress = lambda: {"ready": 1, "started": 1, "processed": 1, "completed": 0}  # noqa: E731
    kth = Tensor(Storage(_torch.DoubleStorage, str(len(state_dict)), 1, struct.pack("<d", float("inf"))), 0, (), ())
    return OrderedDict([
        ("epoch", 0),
        ("global_step", 100000),
        ("pytorch-lightning_version", "2.2.1"),
        ("state_dict", state_dict),
        ("loops", {"fit_loop": {"state_dict": {},
                                "epoch_loop.state_dict": {"_batches_that_stepped": 100000},
                                "epoch_progress": {"total": progress(), "current": progress()}}}),
        ("callbacks", {"ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 10000}": {
            "monitor": None, "best_model_score": None, "best_model_path": "", "current_score": None,
            "dirpath": "checkpoints", "best_k_models": {}, "kth_best_model_path": "",
            "kth_value": kth, "last_model_path": ""}}),
        ("optimizer_states", []),
        ("lr_schedulers", []),
        ("hparams_name", "kwargs"),
        ("hyper_parameters", hp),
    ])


def tiny_hp(D=8, NH=1, NB=1, P=4, FF=8, ctx=8, quantiles=None):
    q = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] if quantiles is None else quantiles
    bk = OrderedDict([("all_slstm", True), ("embedding_dim", D), ("num_blocks", NB), ("num_heads", NH),
                      ("return_last_states", True), ("vocab_size", 0)])
    mc = OrderedDict([("input_patch_size", P), ("output_patch_size", P), ("quantiles", q),
                      ("block_kwargs", dict(bk)), ("input_ff_dim", FF)])
    return {"model_config": dict(mc), "train_ctx_len": ctx}


def layout(hp):
    """(name, shape) in the real checkpoint's order (as make_tirex_reference.state_dict_layout)."""
    mc = hp["model_config"]
    bk = mc["block_kwargs"]
    D, NH, NB = bk["embedding_dim"], bk["num_heads"], bk["num_blocks"]
    DH = D // NH
    UP = int(((D * bk.get("ffn_proj_factor", 2.6667) + 63) // 64) * 64)
    P, FF, Q = mc["input_patch_size"], mc["input_ff_dim"], len(mc["quantiles"])
    out = []
    for n in range(NB):
        p = "block_stack.blocks.%d." % n
        out += [(p + "norm_slstm.weight", (D,))]
        out += [(p + "slstm_layer.%s.weight" % g, (NH, DH, DH)) for g in ("fgate", "igate", "zgate", "ogate")]
        out += [(p + "slstm_layer.slstm_cell._recurrent_kernel_", (NH, DH, 4 * DH)),
                (p + "slstm_layer.slstm_cell._bias_", (NH * 4 * DH,)),
                (p + "slstm_layer.group_norm.weight", (D,)),
                (p + "norm_ffn.weight", (D,)),
                (p + "ffn.proj_up_gate.weight", (UP, D)),
                (p + "ffn.proj_up.weight", (UP, D)),
                (p + "ffn.proj_down.weight", (D, UP))]
    out += [("block_stack.out_norm.weight", (D,))]
    for emb, (i, h, o) in (("input_patch_embedding", (2 * P, FF, D)), ("output_patch_embedding", (D, FF, Q * P))):
        out += [(emb + ".hidden_layer.weight", (h, i)), (emb + ".hidden_layer.bias", (h,)),
                (emb + ".output_layer.weight", (o, h)), (emb + ".output_layer.bias", (o,)),
                (emb + ".residual_layer.weight", (o, i)), (emb + ".residual_layer.bias", (o,))]
    return out


def tiny_state_dict(hp, seed=0, limit=None):
    rng = random.Random(seed)
    sd = OrderedDict()
    for k, (name, shape) in enumerate(layout(hp)[:limit]):
        n = 1
        for d in shape:
            n *= d
        if name.endswith("norm_slstm.weight") or name.endswith("norm_ffn.weight") or name.endswith("out_norm.weight"):
            vals = [rng.uniform(0.6, 1.4) for _ in range(n)]
        elif name.endswith("._bias_"):
            vals = [rng.gauss(0.0, 0.5) + (3.0 if (i // (n // 4)) == 1 else 0.0) for i in range(n)]
        else:
            vals = [rng.gauss(0.0, 1.0 / max(1, shape[-1]) ** 0.5) for _ in range(n)]
        vals = [struct.unpack("<f", struct.pack("<f", v))[0] for v in vals]
        sd[name] = f32_tensor(str(k), shape, vals)
    return sd


def tiny(**kw):
    hp = tiny_hp(**kw)
    return lightning(tiny_state_dict(hp), hp)


def mini():
    hp = tiny_hp()
    return lightning(tiny_state_dict(hp, limit=2), hp)


def ckpt(obj, **kw):
    return zip_bytes(sorted_like_torch(ckpt_entries(obj)), **kw)


# ----------------------------------------------------------------------------- opcode helpers
def U(s):  # BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def replace_once(data, old, new):
    assert data.count(old) >= 1, (old, data[:80])
    i = data.index(old)
    return data[:i] + new + data[i + len(old):]


def opcodes(data):
    import pickletools
    return list(pickletools.genops(data))


def end_of_state_dict(pkl):
    """Byte offset of the SETITEMS that closes the state_dict (the first SETITEMS after the
    'state_dict' key whose MARK came right after the OrderedDict REDUCE)."""
    ops = opcodes(pkl)
    depth = 0
    started = False
    for op, arg, pos in ops:
        if op.name == "BINUNICODE" and arg == "state_dict":
            started = True
            continue
        if not started:
            continue
        if op.name == "MARK":
            depth += 1
        elif op.name in ("SETITEMS", "TUPLE", "LIST", "DICT", "APPENDS"):
            depth -= 1
            if depth == 0 and op.name == "SETITEMS":
                return pos
    raise AssertionError("no state_dict SETITEMS")


def pk_entries(obj, pkl):
    return sorted_like_torch(ckpt_entries(obj, pkl=pkl))


def marker(name):
    return "/tmp/xlstm-pwned-" + name


# ----------------------------------------------------------------------------- the cases
def cases():
    """(file, expected status, bytes) for every case."""
    out = []

    def add(name, status, data):
        out.append((name, status, data))

    T = tiny()
    M = mini()
    tiny_zip, tlay = ckpt(T)
    mini_zip, mlay = ckpt(M)
    tiny_pkl = dump(T)
    mini_pkl = dump(M)
    add("ok_tiny.ckpt", "XLSTM_OK", tiny_zip)  # the control: the base itself loads

    # -- truncated files: every cut loses the end records; the file starts with a local header
    add("trunc_in_central_dir.ckpt", "XLSTM_ERR_TRUNCATED", tiny_zip[: tlay["cd"] + 70])
    add("trunc_in_data_pkl.ckpt", "XLSTM_ERR_TRUNCATED", tiny_zip[: tlay["data"][0] + 1000])
    add("trunc_in_storage.ckpt", "XLSTM_ERR_TRUNCATED", tiny_zip[: tlay["data"][10] + 100])
    add("trunc_in_end_record.ckpt", "XLSTM_ERR_TRUNCATED", mini_zip[:-9])
    add("trunc_empty_after_magic.ckpt", "XLSTM_ERR_TRUNCATED", b"PK\x03\x04")
    # the directory intact but an entry's data runs past the end of the file
    ents = sorted_like_torch(ckpt_entries(M))
    z, lay = zip_bytes(ents)
    cd = bytearray(z)
    # central entry 1 (data/0): compressed and uncompressed size -> 1 MB
    p = lay["cd"]
    p += 46 + len(ents[0][0])
    struct.pack_into("<II", cd, p + 20, 1 << 20, 1 << 20)
    add("entry_past_end.ckpt", "XLSTM_ERR_TRUNCATED", bytes(cd))

    # -- central directory past the end: classic zip, zip64 record, zip64 locator
    z, lay = zip_bytes(ents, zip64=False)
    b = bytearray(z)
    struct.pack_into("<I", b, lay["eocd"] + 16, len(z) + 1000)
    add("cd_past_end_classic.ckpt", "XLSTM_ERR_TRUNCATED", bytes(b))
    z, lay = zip_bytes(ents)
    b = bytearray(z)
    struct.pack_into("<Q", b, lay["zip64"] + 48, len(z) + 1000)
    add("cd_past_end_zip64.ckpt", "XLSTM_ERR_TRUNCATED", bytes(b))
    b = bytearray(z)
    struct.pack_into("<Q", b, lay["zip64"] + 40, 1 << 40)  # cd size
    add("cd_size_huge_zip64.ckpt", "XLSTM_ERR_TRUNCATED", bytes(b))
    b = bytearray(z)
    struct.pack_into("<Q", b, lay["locator"] + 8, len(z) + 1000)
    add("zip64_locator_past_end.ckpt", "XLSTM_ERR_TRUNCATED", bytes(b))
    b = bytearray(z)
    struct.pack_into("<Q", b, lay["locator"] + 8, 0xFFFFFFFFFFFFFFF0)
    add("zip64_locator_wraps.ckpt", "XLSTM_ERR_TRUNCATED", bytes(b))
    b = bytearray(z)
    struct.pack_into("<Q", b, lay["locator"] + 8, lay["cd"])  # points at something else
    add("zip64_locator_bad_record.ckpt", "XLSTM_ERR_FORMAT", bytes(b))
    b = bytearray(z)
    struct.pack_into("<QQ", b, lay["zip64"] + 24, 1 << 40, 1 << 40)  # entry counts
    add("zip64_count_huge.ckpt", "XLSTM_ERR_FORMAT", bytes(b))
    b = bytearray(z)
    struct.pack_into("<QQ", b, lay["zip64"] + 24, 0, 0)
    add("zip_no_entries.ckpt", "XLSTM_ERR_FORMAT", bytes(b))
    # garbage behind a local header's magic, with an end record pointing at garbage
    junk = b"PK\x03\x04" + bytes(range(256)) * 2
    add("not_a_zip.ckpt", "XLSTM_ERR_FORMAT", junk + b"PK\x05\x06" + _dos_le("HHHHIIH", 0, 0, 1, 1, 46, 8, 0))

    # -- compressed / encrypted entries
    e2 = [(ents[0][0], ents[0][1], 8)] + ents[1:]
    add("deflated_data_pkl.ckpt", "XLSTM_ERR_UNSUPPORTED", zip_bytes(e2)[0])
    e2 = ents[:1] + [(ents[1][0], ents[1][1], 8)] + ents[2:]
    add("deflated_storage.ckpt", "XLSTM_ERR_UNSUPPORTED", zip_bytes(e2)[0])
    z, lay = zip_bytes(ents)
    b = bytearray(z)
    struct.pack_into("<H", b, lay["cd"] + 8, 0x0809)  # general purpose flag bit 0: encrypted
    add("encrypted_entry.ckpt", "XLSTM_ERR_UNSUPPORTED", bytes(b))

    # -- zip names
    e2 = ents + [(ents[1][0], ents[1][1])]
    add("dup_zip_entry.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(e2)[0])
    e2 = ents + [("other/data.pkl", ents[0][1])]
    add("two_data_pkl.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(e2)[0])
    e2 = [("model/sub/data.pkl", ents[0][1])] + [("model/sub/" + n[len("model/"):], d) for n, d in ents[1:]]
    add("data_pkl_nested.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(e2)[0])
    e2 = [e for e in ents if not e[0].endswith("/data/1")]
    add("storage_missing.ckpt", "XLSTM_ERR_MISSING", zip_bytes(e2)[0])
    e2 = ents + [("model/byteorder", b"big")]
    add("byteorder_big.ckpt", "XLSTM_ERR_UNSUPPORTED", zip_bytes(sorted_like_torch(e2))[0])

    # -- pickles that would run code if a real unpickler loaded them
    # posix.system('touch ...') via GLOBAL + REDUCE, at the start of an otherwise valid pickle
    evil = b"\x80\x02cposix\nsystem\n" + U("touch " + marker("posix-system")) + b"\x85R0"
    add("pickle_posix_system.ckpt", "XLSTM_ERR_FORMAT",
        zip_bytes(pk_entries(M, evil + mini_pkl[2:]))[0])
    evil = b"\x80\x02cbuiltins\neval\n" + U("__import__('os').system('touch %s')" % marker("builtins-eval")) + b"\x85R0"
    add("pickle_builtins_eval.ckpt", "XLSTM_ERR_FORMAT",
        zip_bytes(pk_entries(M, evil + mini_pkl[2:]))[0])
    # os.system through STACK_GLOBAL (protocol 4)
    evil = (b"\x80\x04\x8c\x02os\x8c\x06system\x93" + b"\x8c" + bytes([len("touch " + marker("os-system"))]) +
            ("touch " + marker("os-system")).encode() + b"\x85R0")
    add("pickle_stack_global_os_system.ckpt", "XLSTM_ERR_FORMAT",
        zip_bytes(pk_entries(M, evil + mini_pkl[2:]))[0])
    # os.system through INST (protocol 0: MARK args INST module name)
    evil = b"(" + U("touch " + marker("inst")) + b"ios\nsystem\n0"
    add("pickle_inst_os_system.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02" + evil + mini_pkl[2:]))[0])
    # an allowed global used in an unexpected place: BUILD on OrderedDict's class, calling a storage
    evil = b"\x80\x02ctorch\nFloatStorage\n)R."
    add("pickle_calls_storage.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, evil))[0])
    evil = b"\x80\x02ccollections\nOrderedDict\n" + U("a") + b"K\x01\x86\x85\x85R."
    add("pickle_ordereddict_args.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, evil))[0])

    # -- the pickle's structure
    add("deep_marks.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02" + b"(" * 5000 + b"N" + b"t" * 5000 + b"."))[0])
    # hyper_parameters nested 5000 lists deep: ] ] ] ... a a a
    sd_end = end_of_state_dict(mini_pkl)
    deep = b"]" * 5000 + b"a" * 4999
    pk = mini_pkl
    # the value of hyper_parameters: from after its key's memo put to the top-level SETITEMS
    ops = opcodes(pk)
    k = [i for i, (op, arg, pos) in enumerate(ops) if op.name == "BINUNICODE" and arg == "hyper_parameters"][0]
    assert ops[k + 1][0].name in ("BINPUT", "LONG_BINPUT")
    hp_val = ops[k + 2][2]
    assert pk[-2:] == b"u."
    pk_deep = pk[:hp_val] + deep + pk[-2:]  # ... key deep-list SETITEMS STOP
    add("deep_lists.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk_deep))[0])
    # billion laughs: L0 = [], Lk = [Lk-1, Lk-1] through the memo, 30 levels (under the depth
    # cap), as hyper_parameters: 2^30 lists as JSON, over the size cap
    laughs = b"]q\x00"
    for k in range(1, 31):
        laughs += b"0]h" + bytes([k - 1]) + b"ah" + bytes([k - 1]) + b"aq" + bytes([k])
    add("hp_billion_laughs.ckpt", "XLSTM_ERR_FORMAT",
        zip_bytes(pk_entries(M, pk[:hp_val] + laughs + pk[-2:]))[0])
    add("memo_unset.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02h\x05."))[0])
    add("memo_unset_long.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02N0j\xff\xff\xff\x7f."))[0])
    add("long_binput_huge.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02Nr\xf0\xff\xff\xff."))[0])
    add("unknown_opcode.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, replace_once(mini_pkl, b"K\x00", b"\xff\x00")))[0])
    add("no_stop.ckpt", "XLSTM_ERR_TRUNCATED", zip_bytes(pk_entries(M, mini_pkl[:-1]))[0])
    add("string_past_end.ckpt", "XLSTM_ERR_TRUNCATED", zip_bytes(pk_entries(M, b"\x80\x02X\xff\xff\x00\x00abc"))[0])
    add("stack_underflow.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02Ns."))[0])
    add("stop_two_objects.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02}}."))[0])
    add("root_not_dict.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, b"\x80\x02]."))[0])
    # BINPERSID applied to a tensor (not a tuple): its storage object's index is no item index
    filler = b"N0" * 57  # the storage becomes object 64: just past the 64 items the item array holds
    sd_tensor = (b"ctorch._utils\n_rebuild_tensor_v2\n((" + U("storage") + b"ctorch\nFloatStorage\n" + U("0") + U("cpu") +
                 b"K\x08tQK\x00K\x08\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR")
    add("persid_of_tensor.ckpt", "XLSTM_ERR_FORMAT",
        zip_bytes(pk_entries(M, b"\x80\x02" + filler + sd_tensor + b"Q."))[0])

    # -- the state_dict
    first = "block_stack.blocks.0.norm_slstm.weight"
    second = "block_stack.blocks.0.slstm_layer.fgate.weight"
    # the same key SETITEM twice: after the state_dict's SETITEMS, SETITEM key again -> the first tensor
    first_val = mini_pkl.index(U(first)) + len(U(first))
    memo_first_tensor = None
    for op, arg, pos in opcodes(mini_pkl):
        if pos > first_val and op.name == "REDUCE":
            nxt = mini_pkl[pos + 1:pos + 3]
            assert nxt[0:1] == b"q"
            memo_first_tensor = nxt[1]
        if op.name == "BINUNICODE" and arg == second:
            break
    extra = U(first) + b"h" + bytes([memo_first_tensor]) + b"s"
    pk = mini_pkl[:sd_end + 1] + extra + mini_pkl[sd_end + 1:]
    add("dup_state_dict_key.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk))[0])
    pk = mini_pkl[:sd_end + 1] + U("blocks.0.norm_slstm.weight") + b"h" + bytes([memo_first_tensor]) + b"s" + mini_pkl[sd_end + 1:]
    add("dup_after_prefix.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk))[0])
    pk = mini_pkl[:sd_end + 1] + U("block_stack.extra") + b"K\x01s" + mini_pkl[sd_end + 1:]
    add("state_dict_int_value.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk))[0])
    pk = mini_pkl[:sd_end + 1] + b"K\x01h" + bytes([memo_first_tensor]) + b"s" + mini_pkl[sd_end + 1:]
    add("state_dict_int_key.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk))[0])

    def sd_variant(name, status, mutate, base=None, data_fix=None):
        obj = mini() if base is None else base()
        t = obj["state_dict"][first]
        mutate(t)
        ents2 = sorted_like_torch(ckpt_entries(obj))
        if data_fix:
            ents2 = data_fix(ents2)
        add(name, status, zip_bytes(ents2)[0])

    # norm_slstm.weight is (8,) float32 in storage "0"
    def transposed(t):  # fgate (1, 8, 8) would be [NH, DH, DH]: use a 2-D one instead
        t.size, t.stride = (2, 4), (1, 2)
    sd_variant("non_contiguous.ckpt", "XLSTM_ERR_UNSUPPORTED", transposed)

    def shrink_storage(t):
        t.storage.numel = 4
        t.storage.data = t.storage.data[:16]
    sd_variant("storage_smaller_than_tensor.ckpt", "XLSTM_ERR_SHAPE", shrink_storage)

    def short_bytes(t):
        t.storage.data = t.storage.data[:16]
    sd_variant("storage_bytes_short.ckpt", "XLSTM_ERR_TRUNCATED", short_bytes)

    def off1(t):
        t.offset = 1
    sd_variant("storage_offset_past_end.ckpt", "XLSTM_ERR_SHAPE", off1)

    def off_huge(t):
        t.offset = 1 << 40
    sd_variant("storage_offset_huge.ckpt", "XLSTM_ERR_SHAPE", off_huge)

    def off_neg(t):
        t.offset = -8
    sd_variant("storage_offset_negative.ckpt", "XLSTM_ERR_FORMAT", off_neg)

    def shape_neg(t):
        t.size, t.stride = (-8,), (1,)
    sd_variant("shape_negative.ckpt", "XLSTM_ERR_FORMAT", shape_neg)

    def shape_huge(t):
        t.size, t.stride = (1 << 40,), (1,)
    sd_variant("shape_huge.ckpt", "XLSTM_ERR_SHAPE", shape_huge)

    def shape_huge2(t):
        t.size, t.stride = (1 << 31, 1 << 31), (1 << 31, 1)
    sd_variant("shape_huge_2d.ckpt", "XLSTM_ERR_SHAPE", shape_huge2)

    def shape_2_64(t):
        t.size, t.stride = (1 << 64 - 1,), (1,)
    sd_variant("shape_2_63.ckpt", "XLSTM_ERR_FORMAT", shape_2_64)

    def stride0(t):
        t.size, t.stride = (1 << 40, 1 << 40), (0, 0)
    sd_variant("shape_huge_stride0.ckpt", "XLSTM_ERR_UNSUPPORTED", stride0)

    def ndim9(t):
        t.size, t.stride = (1,) * 8 + (8,), (8,) * 8 + (1,)
    sd_variant("ndim_9.ckpt", "XLSTM_ERR_FORMAT", ndim9)

    # weight-loader stage: a complete tiny model with one tensor changed
    def long_dtype(t):
        t.storage.cls = _torch.LongStorage
        t.storage.data = struct.pack("<8q", *range(8))
    sd_variant("long_tensor.ckpt", "XLSTM_ERR_DTYPE", long_dtype, base=tiny)

    def double_dtype(t):
        t.storage.cls = _torch.DoubleStorage
        t.storage.data = struct.pack("<8d", *([1.0] * 8))
    sd_variant("double_tensor.ckpt", "XLSTM_ERR_DTYPE", double_dtype, base=tiny)

    def zero_dim(t):
        t.size, t.stride = (0, 8), (8, 1)
    sd_variant("shape_zero_dim.ckpt", "XLSTM_ERR_SHAPE", zero_dim, base=tiny)

    def wrong_shape(t):
        t.size, t.stride = (2, 4), (4, 1)
    sd_variant("shape_wrong.ckpt", "XLSTM_ERR_SHAPE", wrong_shape, base=tiny)

    def nan_weight(t):
        t.storage.data = struct.pack("<8f", *([float("nan")] + [1.0] * 7))
    sd_variant("nan_weight.ckpt", "XLSTM_ERR_VALUE", nan_weight, base=tiny)

    obj = tiny()
    del obj["state_dict"]["block_stack.blocks.0.ffn.proj_down.weight"]
    add("tensor_missing.ckpt", "XLSTM_ERR_MISSING", ckpt(obj)[0])
    obj = tiny()
    obj["state_dict"]["block_stack.blocks.0.surplus.weight"] = f32_tensor("99", (2,), [0.0, 1.0])
    add("tensor_unexpected.ckpt", "XLSTM_ERR_UNEXPECTED", ckpt(obj)[0])
    obj = tiny()
    del obj["hyper_parameters"]
    add("no_hyper_parameters.ckpt", "XLSTM_ERR_CONFIG", ckpt(obj)[0])

    # -- hyper_parameters
    pk = replace_once(mini_pkl, U("input_ff_dim"), U("input_patch_size"))  # in the same dict as input_patch_size
    add("hp_dup_key.ckpt", "XLSTM_ERR_FORMAT", zip_bytes(pk_entries(M, pk))[0])

    def hp_variant(name, status, mutate):
        obj = mini()
        mutate(obj["hyper_parameters"])
        add(name, status, ckpt(obj)[0])

    hp_variant("hp_no_quantiles.ckpt", "XLSTM_ERR_CONFIG", lambda h: h["model_config"].pop("quantiles"))
    hp_variant("hp_no_median.ckpt", "XLSTM_ERR_CONFIG",
               lambda h: h["model_config"].__setitem__("quantiles", [0.1, 0.25, 0.75, 0.9]))
    hp_variant("hp_quantiles_empty.ckpt", "XLSTM_ERR_CONFIG", lambda h: h["model_config"].__setitem__("quantiles", []))
    hp_variant("hp_quantile_out_of_range.ckpt", "XLSTM_ERR_CONFIG",
               lambda h: h["model_config"].__setitem__("quantiles", [0.5, 1.5]))
    hp_variant("hp_ctx_not_multiple.ckpt", "XLSTM_ERR_CONFIG", lambda h: h.__setitem__("train_ctx_len", 10))
    hp_variant("hp_patch_mismatch.ckpt", "XLSTM_ERR_CONFIG",
               lambda h: h["model_config"].__setitem__("output_patch_size", 8))
    hp_variant("hp_heads_not_dividing.ckpt", "XLSTM_ERR_CONFIG",
               lambda h: h["model_config"]["block_kwargs"].__setitem__("num_heads", 3))
    hp_variant("hp_dim_string.ckpt", "XLSTM_ERR_CONFIG",
               lambda h: h["model_config"]["block_kwargs"].__setitem__("embedding_dim", "8"))
    hp_variant("hp_empty.ckpt", "XLSTM_ERR_CONFIG", lambda h: h.clear())
    return out


def main(argv):
    outdir = os.path.join(ROOT, "tests", "data", "tirex", "bad")
    seeds = None
    args = list(argv)
    if "--check" in args:
        args.remove("--check")
        check_golden()
    if "--seeds" in args:
        i = args.index("--seeds")
        seeds = args[i + 1]
        del args[i:i + 2]
    if args:
        outdir = args[0]
    os.makedirs(outdir, exist_ok=True)
    lines = []
    total = 0
    for name, status, data in cases():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        lines.append("%s %s" % (name, status))
        total += len(data)
    with open(os.path.join(outdir, "expected.txt"), "w") as f:
        f.write("# FILE STATUS: the xlstm_status xlstm_model_load returns (tools/make_bad_checkpoints.py)\n")
        f.write("\n".join(lines) + "\n")
    print("%d files, %d bytes in %s" % (len(lines), total, outdir))
    if seeds:
        os.makedirs(seeds, exist_ok=True)
        for nm, kw in (("tiny_d8_h1_b1_p4", {}), ("tiny_d8_h2_b2_p4", {"NH": 2, "NB": 2}),
                       ("tiny_q1", {"quantiles": [0.5]})):
            with open(os.path.join(seeds, nm + ".ckpt"), "wb") as f:
                f.write(ckpt(tiny(**kw))[0])
        with open(os.path.join(seeds, "mini.ckpt"), "wb") as f:
            f.write(ckpt(mini())[0])


if __name__ == "__main__":
    main(sys.argv[1:])
