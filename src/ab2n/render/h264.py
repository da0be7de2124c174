"""The few H.264 bitstream facts smart rendering needs: avcC, SPS fields, NAL units, IDR pictures.

Smart rendering splices freshly encoded pictures between copied ones, so it must know what the
source's sequence parameters are (to encode the new pictures to match, and to give them parameter
set ids of their own), and it must carry the new pictures' parameter sets in-band and re-frame NAL
units when two MP4 files use different length-prefix sizes. Nothing here decodes pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
#: Profiles that carry chroma_format_idc and bit depths in the SPS (ITU-T H.264 7.3.2.1.1).
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class Sps:
    """The sequence parameter set fields smart rendering matches or refuses on."""

    profile_idc: int
    constraint_flags: int
    level_idc: int
    sps_id: int
    chroma_format_idc: int
    bit_depth: int
    frame_mbs_only: bool


@dataclass(frozen=True)
class AvcConfig:
    """An ``avcC`` record (the MP4 sample entry's decoder configuration)."""

    profile_idc: int
    level_idc: int
    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]


def parse_avcc(extradata: bytes) -> AvcConfig:
    """Parse an avcC record (ISO/IEC 14496-15 5.3.3.1).

    Raises:
        ValueError: Not an avcC record (e.g. Annex B extradata, as in MPEG-TS or raw streams).
    """
    if len(extradata) < 7 or extradata[0] != 1:
        raise ValueError("not an avcC record")
    length_size = (extradata[4] & 3) + 1
    pos = 5
    out: list[list[bytes]] = [[], []]
    for which in (0, 1):
        count = extradata[pos] & (0x1F if which == 0 else 0xFF)
        pos += 1
        for _ in range(count):
            n = int.from_bytes(extradata[pos : pos + 2], "big")
            out[which].append(bytes(extradata[pos + 2 : pos + 2 + n]))
            pos += 2 + n
            if pos > len(extradata):
                raise ValueError("truncated avcC record")
    return AvcConfig(extradata[1], extradata[3], length_size, tuple(out[0]), tuple(out[1]))


class _Bits:
    """An MSB-first bit reader over an RBSP (emulation prevention bytes already removed)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3] if (self.pos >> 3) < len(self.data) else 0
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def rbsp(nal: bytes) -> bytes:
    """The NAL unit's payload without its header byte and emulation prevention bytes."""
    out = bytearray()
    zeros = 0
    for b in nal[1:]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def parse_sps(nal: bytes) -> Sps:
    """The matched fields of one SPS NAL unit (header byte included)."""
    r = _Bits(rbsp(nal))
    profile, flags, level = r.u(8), r.u(8), r.u(8)
    sps_id = r.ue()
    chroma, depth = 1, 8
    if profile in _HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            r.u(1)  # separate_colour_plane_flag
        depth = 8 + r.ue()
        r.ue()  # bit_depth_chroma_minus8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    r.ue()  # pic_width_in_mbs_minus1
    r.ue()  # pic_height_in_map_units_minus1
    frame_mbs_only = bool(r.u(1))
    return Sps(profile, flags, level, sps_id, chroma, depth, frame_mbs_only)


def _skip_scaling_list(r: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + r.se() + 256) % 256
        last = nxt if nxt != 0 else last


def pps_ids(nal: bytes) -> tuple[int, int]:
    """(pps_id, sps_id) of one PPS NAL unit."""
    r = _Bits(rbsp(nal))
    return r.ue(), r.ue()


def split_lengths(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of one MP4 sample (each prefixed with its length in ``length_size`` bytes)."""
    nals: list[bytes] = []
    pos = 0
    while pos + length_size <= len(data):
        n = int.from_bytes(data[pos : pos + length_size], "big")
        nals.append(data[pos + length_size : pos + length_size + n])
        pos += length_size + n
    return nals


def to_length_prefixed(nals: list[bytes], length_size: int) -> bytes:
    """NAL units framed for MP4 (each prefixed with its length), access unit delimiters dropped."""
    return b"".join(len(x).to_bytes(length_size, "big") + x for x in nals if x and x[0] & 0x1F != NAL_AUD)


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of a NAL unit."""
    return nal[0] & 0x1F if nal else -1
