/* Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads on vault-svc's multipart calls (proto/vault.proto).
 * Not served yet: each answers 501 NotImplemented, changing nothing; s3.h
 * says how an operation is written. */
#include "gateway/s3/s3.h"

static mgr_err
mp_not_yet(struct s3_req *q)
{
	return (s3_fail(q, "NotImplemented", "multipart uploads are not served "
	    "yet"));
}

/* Refused before any body byte: a part's body is not read for nothing. */
const struct s3_opdef s3_op_create_upload = {S3_BODY_NONE, 1, mp_not_yet, NULL,
	mp_not_yet, NULL};
const struct s3_opdef s3_op_upload_part = {S3_BODY_NONE, 1, mp_not_yet, NULL,
	mp_not_yet, NULL};
const struct s3_opdef s3_op_upload_part_copy = {S3_BODY_NONE, 1, mp_not_yet,
	NULL, mp_not_yet, NULL};
const struct s3_opdef s3_op_complete_upload = {S3_BODY_NONE, 1, mp_not_yet,
	NULL, mp_not_yet, NULL};
const struct s3_opdef s3_op_abort_upload = {S3_BODY_NONE, 1, mp_not_yet, NULL,
	mp_not_yet, NULL};
const struct s3_opdef s3_op_list_parts = {S3_BODY_NONE, 1, mp_not_yet, NULL,
	mp_not_yet, NULL};
const struct s3_opdef s3_op_list_uploads = {S3_BODY_NONE, 0, mp_not_yet, NULL,
	mp_not_yet, NULL};
