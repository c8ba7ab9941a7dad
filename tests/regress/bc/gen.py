#!/usr/bin/env python3
"""Writes the bytecode loader's regression inputs: each NAME.bin is
base.ptcb.src (the cache file of the template
  [general] / vendor=v@EXT@ / [phoneprov] / #<201>a @EXT@ / b
compiled by ptc 0.1.0, format 2) with one defect, and NAME.why the reason
ptc_bc_decode must give (`ptc disasm -v` prints it as a cache miss).
Defects after the checksums get valid CRCs so the deeper checks run.
Run from this directory: python3 gen.py"""
import struct, zlib

base = bytearray(open('base.ptcb.src', 'rb').read())
HDR = 40

def sections(b):
    return [struct.unpack_from('<III', b, HDR + 12 * i) for i in range(6)]

def recrc(b):
    struct.pack_into('<I', b, 36, zlib.crc32(bytes(b[:36])))
    struct.pack_into('<I', b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
    return b

def insn_at(b, i):
    _, off, _ = sections(b)[0]
    return off + 12 * i

def case(name, data, why):
    open(name + '.bin', 'wb').write(bytes(data))
    open(name + '.why', 'w').write(why + '\n')

b = bytearray(base); case('truncated', b[:30], 'truncated header (30 bytes)')
b = bytearray(base); b[0:4] = b'XXXX'; case('bad-magic', b, 'not a ptc bytecode file')
b = bytearray(base); b[20] ^= 1; case('header-crc', b, 'header checksum mismatch')
b = bytearray(base); b[200] ^= 1; case('trailer-crc', b, 'checksum mismatch')
b = bytearray(base); struct.pack_into('<I', b, 8, 3); case('format-version', recrc(b), 'format version 3, expected 2')
b = bytearray(base); struct.pack_into('<I', b, 32, 7); case('section-count', recrc(b), '7 sections, expected 6')
b = bytearray(base); struct.pack_into('<I', b, HDR + 12 * 3 + 4, 0xFFFFFFF0); case('section-bounds', recrc(b), 'section 4 out of bounds')
b = bytearray(base); struct.pack_into('<I', b, HDR + 12 * 1, 9); case('section-id', recrc(b), 'section 1 has id 9')
b = bytearray(base); struct.pack_into('<I', b, HDR + 8, 13); case('section-sizes', recrc(b), 'section sizes inconsistent')
b = bytearray(base); struct.pack_into('<I', b, insn_at(b, 5) + 8, 3); case('jump-backwards', recrc(b), 'bad jump target 3 at 5')
b = bytearray(base); struct.pack_into('<I', b, insn_at(b, 5) + 8, 11); case('jump-past-end', recrc(b), 'bad jump target 11 at 5')
b = bytearray(base); struct.pack_into('<I', b, insn_at(b, 6) + 4, 5); case('constant-index', recrc(b), 'bad constant 5 at 6')
b = bytearray(base); b[insn_at(b, 7) + 1] = 38; case('bad-slot', recrc(b), 'bad slot 38 at 7')
b = bytearray(base); b[insn_at(b, 3) + 1] = 30; case('bad-key', recrc(b), 'bad key 30 at 3')
b = bytearray(base); b[insn_at(b, 6)] = 8; case('bad-opcode', recrc(b), 'bad opcode 8 at 6')
b = bytearray(base); b[insn_at(b, 6) + 2] = 1; case('reserved-bits', recrc(b), 'reserved bits set at 6')
b = bytearray(base); b[insn_at(b, 10)] = 0; struct.pack_into('<I', b, insn_at(b, 10) + 4, 0); case('no-ret', recrc(b), 'code does not end in RET')
_, koff, _ = sections(base)[2]
b = bytearray(base); struct.pack_into('<I', b, koff + 4 * 8 + 4, 200); case('constant-range', recrc(b), 'constant 4 out of range')
_, eoff, _ = sections(base)[4]
b = bytearray(base); struct.pack_into('<I', b, eoff + 9 * 4, 11); case('entry-range', recrc(b), 'entry of [phoneprov] out of range')
b = bytearray(base); struct.pack_into('<I', b, eoff, 0xFFFFFFFF); case('no-general', recrc(b), 'no [general]')
_, moff, _ = sections(base)[5]
b = bytearray(base); struct.pack_into('<I', b, moff, 9); case('menu-name', recrc(b), 'menu_name constant out of range')
b = bytearray(base); struct.pack_into('<I', b, moff + 4, 1 << 30); case('meta-keys', recrc(b), 'unknown keys in META')
