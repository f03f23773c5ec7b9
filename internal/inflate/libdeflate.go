//go:build libdeflate && cgo

package inflate

/*
#cgo LDFLAGS: -l:libdeflate.a
#include <libdeflate.h>
*/
import "C"

import "unsafe"

// Available tells whether Gunzip works: built with libdeflate.
const Available = true

// gunzipMember decompresses the gzip member at the start of src into
// out, and returns the bytes of src it took and of out it made.
func gunzipMember(out, src []byte) (in, n int, err error) {
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		panic("inflate: libdeflate_alloc_decompressor: out of memory")
	}
	defer C.libdeflate_free_decompressor(d)
	var outPtr unsafe.Pointer
	if len(out) > 0 {
		outPtr = unsafe.Pointer(&out[0])
	}
	var inN, outN C.size_t
	switch C.libdeflate_gzip_decompress_ex(d, unsafe.Pointer(&src[0]), C.size_t(len(src)), outPtr, C.size_t(len(out)), &inN, &outN) {
	case C.LIBDEFLATE_SUCCESS:
		return int(inN), int(outN), nil
	case C.LIBDEFLATE_INSUFFICIENT_SPACE:
		return 0, 0, errShort
	}
	return 0, 0, ErrCorrupt
}
