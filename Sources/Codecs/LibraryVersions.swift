import CPNG
import CZlib
import CZstd

/// Versions of the C libraries linked into this binary (asked at run time, so they are the
/// ones actually loaded), for provenance records.
public enum CodecLibraries {
    public static var versions: [String: String] {
        ["libpng": String(cString: png_get_libpng_ver(nil)),
         "zstd": String(cString: ZSTD_versionString()),
         "zlib": String(cString: zlibVersion())]
    }
}
