"""File storage for photos, thumbnails and batch outputs: the local folder by default, S3 when scaled out.

    from audit.storage.services import app_store

    key = app_store("photos").save(data, ".jpg")      # a new random key, e.g. "3f/a0/3fa0….jpg"
    data = app_store("photos").read(key)

`base.FileStore` is the interface, `local.LocalStore` and `s3.S3Store` the backends, `config` describes which
store holds what (`TRYGGAHUS_STORAGE` and the `TRYGGAHUS_S3_*` settings), `migrate` copies every file from one
backend to the other (`tryggahus storage migrate`). Stored signs are not files: they live in the database.
"""
