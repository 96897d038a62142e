#!/bin/sh
# Regenerates the media files of testdata/container/ (see README.md). Run from this directory.
# Made with ffmpeg 5.1.9-0+deb12u1 (Debian 12): Lavf59.27.100 / Lavc59.37.100. Other ffmpeg
# versions write other version strings and may lay boxes out differently, so the committed
# files, not this script's output, are the reference for the tests.
set -eu
S="-hide_banner -loglevel error -y"
TONE8K="-f lavfi -i sine=frequency=440:sample_rate=8000:duration=1"
VIDEO="-f lavfi -i testsrc=size=32x32:rate=5:duration=1"

# MP4/M4A/MOV
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=44100:duration=1 -c:a aac -b:a 32k aac-lc-44k-mono-elst-1024.m4a
ffmpeg $S $VIDEO $TONE8K -map 0:v -map 1:a -c:v libx264 -preset ultrafast -crf 51 -g 5 -c:a aac -b:a 12k h264-aac-video-first-moov-last.mp4
ffmpeg $S $VIDEO $TONE8K -map 0:v -map 1:a -c:v libx264 -preset ultrafast -crf 51 -g 5 -c:a aac -b:a 12k -movflags +faststart h264-aac-faststart.mp4
ffmpeg $S $TONE8K -c:a aac -b:a 12k -metadata creation_time=2021-09-13T10:02:11Z aac-8k-creation-time-2021.mov
ffmpeg $S $TONE8K -c:a aac -b:a 12k -metadata creation_time=2021-09-13T10:02:11Z \
  -metadata com.apple.quicktime.make=Apple -metadata "com.apple.quicktime.model=iPhone 12" \
  -metadata com.apple.quicktime.software=15.0 -metadata com.apple.quicktime.creationdate=2021-09-13T12:02:11+0200 \
  -movflags use_metadata_tags aac-8k-iphone-keys-lavf-encoder.mov
# A 2-second source, then a stream-copied cut from 0.5 s: the edit lists skip into the media.
SRC=$(mktemp --suffix=.mp4)
ffmpeg $S -f lavfi -i testsrc=size=32x32:rate=5:duration=2 -f lavfi -i sine=frequency=440:sample_rate=8000:duration=2 \
  -map 0:v -map 1:a -c:v libx264 -preset ultrafast -crf 51 -g 10 -c:a aac -b:a 12k "$SRC"
ffmpeg $S -ss 0.5 -i "$SRC" -t 1 -c copy h264-aac-stream-copy-cut-elst-skip-0.5s.mp4
rm -f "$SRC"

# Not media: a JPEG and a text file named .mp4, and an empty file.
ffmpeg $S -f lavfi -i testsrc=size=16x16 -frames:v 1 -f image2 -c:v mjpeg jpeg-image-renamed.mp4
printf 'this is not a media file\n' > text-file-renamed.mp4
: > empty.mp4

# Cover art (uses the JPEG above).
ffmpeg $S $TONE8K -i jpeg-image-renamed.mp4 -map 0:a -map 1:v -c:a aac -b:a 12k -c:v copy -disposition:v:0 attached_pic aac-8k-cover-art.m4a
ffmpeg $S $TONE8K -i jpeg-image-renamed.mp4 -map 0:a -map 1:v -c:a libmp3lame -b:a 8k -c:v copy -id3v2_version 3 -disposition:v:0 attached_pic mp3-8k-id3v23-cover-art.mp3

# Matroska, WebM, Ogg
ffmpeg $S $VIDEO $TONE8K -map 0:v -map 1:a -c:v libx264 -preset ultrafast -crf 51 -g 5 -c:a aac -b:a 12k -metadata creation_time=2021-09-13T10:02:11Z h264-aac-creation-time.mkv
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 -c:a libopus -b:a 12k opus-48k-mono.webm
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 -c:a libopus -b:a 12k opus-48k-mono.opus
ffmpeg $S $TONE8K -c:a libvorbis -q:a 0 vorbis-8k-mono.ogg

# FLAC, WAV, MP3, ADTS, AIFF, CAF
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.5 -c:a flac flac-8k-mono-s16.flac
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.5 -c:a pcm_s16le pcm-s16le-8k-mono-isft.wav
ffmpeg $S $TONE8K -c:a libmp3lame -b:a 8k mp3-8k-mono-lame-tag.mp3
ffmpeg $S $TONE8K -c:a aac -b:a 12k aac-lc-8k-mono.aac
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.25 -c:a pcm_s16be pcm-s16be-8k-mono.aiff
ffmpeg $S -f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.25 -c:a pcm_s16le pcm-s16le-8k-mono.caf
