#!/usr/bin/env bash
# Writes the fuzz_frame seeds (tests/fuzz/corpus/fuzz_frame/) from the
# ClientFrames in text format below, with protoc --encode. Run it again after
# changing a frame here; the seeds are committed.
#
# A seed is [max_frame selector][k][k piece lengths][stream] (fuzz_frame.cc):
# selector 0 means --max-frame 65536, k 0 one Append of the whole stream.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/fuzz_frame
rm -f "$out"/*.bin

# One length-delimited ClientFrame from its text format.
frame() {
  local tmp
  tmp=$(mktemp)
  printf '%s\n' "$1" | protoc -I proto --encode=hub.v1.ClientFrame hub/v1/session.proto >"$tmp"
  local n
  n=$(stat -c %s "$tmp")
  if [ "$n" -lt 128 ]; then
    printf "\\x$(printf %02x "$n")"
  else
    printf "\\x$(printf %02x $(((n & 127) | 128)))\\x$(printf %02x $((n >> 7)))"
  fi
  cat "$tmp"
  rm -f "$tmp"
}
event() {  # event SCANNER SEQ BODY
  frame "event { scanner_id: \"$1\" seq: $2 event_time_ms: $((1767225600000 + $2 * 250)) station: \"ST-$1\" $3 }"
}
hello() { frame "hello { scanner_id: \"$1\" station: \"ST-$1\" version: PROTOCOL_VERSION_1 }"; }
# seed NAME HEADER_BYTES: the stream on stdin, prefixed by the header.
seed() { { printf "$2"; cat; } >"$out/$1.bin"; }

bodies=(
  'vehicle_arrived { vehicle_id: "V1" route_code: "R-IN" seal_id: "S1" seal_intact: true advised_bag_count: 2 gross_weight_g: 1200000 }'
  'bag_unloaded { bag_id: "B1" vehicle_id: "V1" label_count: 3 weight_g: 9000 }'
  'vehicle_unloaded { vehicle_id: "V1" }'
  'bag_opened { bag_id: "B1" }'
  'parcel_unbagged { parcel_id: "P1" bag_id: "B1" }'
  'parcel_unbagged { parcel_id: "P3" bag_id: "B1" }'
  'bag_emptied { bag_id: "B1" }'
  'parcel_sorted { parcel_id: "P1" destination: "D1" weight_g: 1200 service_class: SERVICE_CLASS_STANDARD }'
  'parcel_sorted { parcel_id: "" destination: "D1" }'
  'parcel_sorted { parcel_id: "P3" destination: "D9" service_class: SERVICE_CLASS_EXPRESS }'
  'parcel_sorted { parcel_id: "P9" destination: "D2" }'
  'bag_created { bag_id: "OB1" destination: "R1" }'
  'parcel_bagged { parcel_id: "P1" bag_id: "OB1" }'
  'parcel_bagged { parcel_id: "P3" bag_id: "OB1" }'
  'bag_closed { bag_id: "OB1" label_count: 2 }'
  'load_opened { load_id: "L1" vehicle_id: "T1" route_code: "R1" }'
  'bag_loaded { bag_id: "OB1" load_id: "L1" }'
  'load_departed { load_id: "L1" seal_id: "S9" }'
  'hold_placed { parcel_id: "P2" reason: HOLD_REASON_DAMAGED note: "torn" }'
  'hold_released { parcel_id: "P2" }'
  'parcel_damaged { parcel_id: "P2" weight_g: 100 note: "wet" }'
)

# A whole hub flow on one session, then the same stream in other splits.
flow() {
  hello HUB-1
  local seq=0
  for b in "${bodies[@]}"; do
    seq=$((seq + 1))
    event HUB-1 "$seq" "$b"
  done
}
flow | seed flow-whole '\x00\x00'
flow | seed flow-bytewise '\x00\x01\x01'
flow | seed flow-uneven '\x00\x04\x03\x07\x00\xc8'

# Each kind alone after a hello (a scanner per kind, seq 1).
i=0
for b in "${bodies[@]}"; do
  i=$((i + 1))
  { hello "S$i"; event "S$i" 1 "$b"; } | seed "$(printf 'kind-%02d-%s' "$i" "${b%% *}")" '\x00\x00'
done

# Re-sends and gaps: seq 2 twice, then 1 again, then 5.
{ hello DOCK-1; event DOCK-1 1 "${bodies[0]}"; event DOCK-1 2 "${bodies[1]}"
  event DOCK-1 2 "${bodies[1]}"; event DOCK-1 1 "${bodies[0]}"; event DOCK-1 5 "${bodies[2]}"
} | seed resend '\x00\x02\x05\x00'
# Events the validator rejects: seq 0, missing id, id of 65 bytes, no body,
# undefined enum value.
{ hello DOCK-1; event DOCK-1 0 "${bodies[0]}"; event DOCK-1 1 'bag_opened { }'
  event DOCK-1 2 "bag_opened { bag_id: \"$(printf 'x%.0s' {1..65})\" }"; event DOCK-1 3 ''
  event DOCK-1 4 'hold_placed { parcel_id: "P1" reason: 99 }'
} | seed rejected '\x00\x00'
# Framing errors: a varint of six bytes; a length over max_frame 64.
{ hello DOCK-1; printf '\xff\xff\xff\xff\xff\x01'; } | seed malformed-varint '\x00\x00'
{ hello DOCK-1; printf '\xc8\x01'; } | seed oversized '\x01\x00'
ls "$out" | wc -l
