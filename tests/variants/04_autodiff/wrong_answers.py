# variant: wrong
# what: Question 4.1 answered with 6 (the +a term forgotten) and Question 4.3 with "a"
#   (only the axis added in front)
# assignment: 04_autodiff
# zero: test_answer_q4_1, test_answer_q4_3
# message: not the right answer, 答案不正确
# %% id=answer_q4_1
answer_q4_1 = 6
# %% id=answer_q4_3
answer_q4_3 = "a"
